/**
 * How Prometheus finds a tier's metrics: the `prometheus.io/*` pod annotations
 * that the prometheus community chart's `kubernetes-pods` job follows. A
 * PodMonitor (prometheus-operator.ts) names the container port instead.
 */
export const METRICS_PATH = '/metrics'

export function prometheusAnnotations (port: number): Record<string, string> {
  return { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': METRICS_PATH }
}
