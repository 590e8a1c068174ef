import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { stringify } from 'yaml'
import { freePort } from '../../dev/free-port'
import { tied } from '../../dev/tied-spawn'
import { until } from '../helpers/until'
import { terminate } from '../helpers/supervisor'

/**
 * A real Prometheus on the host, discovering pods through the API server as a
 * cluster's Prometheus does, in one of the two conventions an operator meets:
 * - `annotations`: the prometheus community chart's `kubernetes-pods` job,
 *   which scrapes pods that carry prometheus.io/scrape, /port and /path
 *   (honor_labels: true, as that chart has it);
 * - `podMonitor`: the job prometheus-operator writes for a PodMonitor
 *   (honor_labels: false; job, namespace, pod, container and endpoint as
 *   target labels), built here from the program's own PodMonitor specs.
 *
 * Both scrape every 2 s (clusters: 15–60 s) and evaluate the repository's
 * alert rules every 2 s, so a test phase of a minute has enough points.
 */
export const SCRAPE_SECONDS = 2
/** What Grafana puts for $__rate_interval when the data source's scrape interval is 2 s: four scrapes. */
export const RATE_INTERVAL = `${4 * SCRAPE_SECONDS}s`

export interface PodMonitorTarget {
  readonly name: string
  readonly namespace: string
  readonly spec: { selector: { matchLabels?: Record<string, string> }, podMetricsEndpoints?: Array<{ port?: string, path?: string }> }
}

/** Prometheus' label name for a Kubernetes label: every character outside [a-zA-Z0-9_] becomes _. */
const labelName = (k: string): string => k.replace(/[^a-zA-Z0-9_]/g, '_')

export function annotationsJob (kubeconfig: string): Record<string, unknown> {
  const meta = '__meta_kubernetes_pod_'
  return {
    job_name: 'kubernetes-pods',
    honor_labels: true,
    kubernetes_sd_configs: [{ role: 'pod', kubeconfig_file: kubeconfig }],
    relabel_configs: [
      { source_labels: [`${meta}annotation_prometheus_io_scrape`], action: 'keep', regex: 'true' },
      { source_labels: [`${meta}annotation_prometheus_io_scheme`], action: 'replace', regex: '(https?)', target_label: '__scheme__' },
      { source_labels: [`${meta}annotation_prometheus_io_path`], action: 'replace', regex: '(.+)', target_label: '__metrics_path__' },
      { source_labels: [`${meta}annotation_prometheus_io_port`, `${meta}ip`], action: 'replace', regex: '(\\d+);((([0-9]+?)(\\.|$)){4})', replacement: '$2:$1', target_label: '__address__' },
      { action: 'labelmap', regex: `${meta}label_(.+)` },
      { source_labels: ['__meta_kubernetes_namespace'], action: 'replace', target_label: 'namespace' },
      { source_labels: [`${meta}name`], action: 'replace', target_label: 'pod' },
      { source_labels: [`${meta}phase`], regex: 'Pending|Succeeded|Failed|Completed', action: 'drop' },
      { source_labels: [`${meta}node_name`], action: 'replace', target_label: 'node' }
    ]
  }
}

export function podMonitorJobs (kubeconfig: string, monitors: readonly PodMonitorTarget[]): Array<Record<string, unknown>> {
  const meta = '__meta_kubernetes_pod_'
  return monitors.flatMap(m => (m.spec.podMetricsEndpoints ?? []).map((endpoint, i) => ({
    job_name: `podMonitor/${m.namespace}/${m.name}/${i}`,
    honor_labels: false,
    metrics_path: endpoint.path ?? '/metrics',
    kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [m.namespace] }, kubeconfig_file: kubeconfig }],
    relabel_configs: [
      { source_labels: [`${meta}phase`], regex: '(Failed|Succeeded)', action: 'drop' },
      ...Object.entries(m.spec.selector.matchLabels ?? {}).map(([k, v]) => ({
        source_labels: [`${meta}label_${labelName(k)}`, `${meta}labelpresent_${labelName(k)}`], regex: `(${v});true`, action: 'keep'
      })),
      { source_labels: [`${meta}container_port_name`], regex: endpoint.port, action: 'keep' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: [`${meta}container_name`], target_label: 'container' },
      { source_labels: [`${meta}name`], target_label: 'pod' },
      { target_label: 'job', replacement: `${m.namespace}/${m.name}` },
      { target_label: 'endpoint', replacement: endpoint.port }
    ]
  })))
}

export interface Prometheus {
  readonly name: string
  readonly url: string
  /** An instant query's result vector. */
  query (expr: string, at?: number): Promise<Array<{ metric: Record<string, string>, value: [number, string] }>>
  /** A range query's matrix, step SCRAPE_SECONDS. */
  queryRange (expr: string, start: number, end: number): Promise<Array<{ metric: Record<string, string>, values: Array<[number, string]> }>>
  /** Alerts as the rule manager holds them now. */
  alerts (): Promise<Array<{ labels: Record<string, string>, state: string }>>
  stop (): Promise<void>
}

/** Starts Prometheus with `jobs` and the rule file, and waits until it is ready. Its files live in `dir`. */
export async function startPrometheus (opts: { bin: string, name: string, dir: string, jobs: unknown[], rules: string }): Promise<Prometheus> {
  mkdirSync(opts.dir, { recursive: true })
  const config = join(opts.dir, 'prometheus.yaml')
  writeFileSync(config, stringify({
    global: { scrape_interval: `${SCRAPE_SECONDS}s`, scrape_timeout: `${SCRAPE_SECONDS}s`, evaluation_interval: `${SCRAPE_SECONDS}s` },
    rule_files: [opts.rules],
    scrape_configs: opts.jobs
  }))
  // The same parser Prometheus uses, with its message if the file is wrong.
  execFileSync(join(opts.bin, 'promtool'), ['check', 'config', config], { stdio: 'pipe' })
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const log = createWriteStream(join(opts.dir, 'prometheus.log'))
  const child: ChildProcess = spawn(...tied(join(opts.bin, 'prometheus'), [
    `--config.file=${config}`, `--storage.tsdb.path=${join(opts.dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=6h'
  ]), { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  const api = async <T>(path: string): Promise<T> => {
    const res = await request(`${url}${path}`, { headersTimeout: 30_000, bodyTimeout: 30_000 })
    const body = await res.body.json() as { status: string, data: T, error?: string }
    if (body.status !== 'success') throw new Error(`${opts.name} ${path}: ${body.error ?? res.statusCode}`)
    return body.data
  }
  await until(`${opts.name} Prometheus ready (${join(opts.dir, 'prometheus.log')})`, async () => {
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}`)
    const res = await request(`${url}/-/ready`)
    await res.body.dump()
    return res.statusCode === 200 ? true : undefined
  }, 60_000)
  return {
    name: opts.name,
    url,
    query: async (expr, at) => (await api<{ result: Array<{ metric: Record<string, string>, value: [number, string] }> }>(
      `/api/v1/query?query=${encodeURIComponent(expr)}${at === undefined ? '' : `&time=${at}`}`)).result,
    queryRange: async (expr, start, end) => (await api<{ result: Array<{ metric: Record<string, string>, values: Array<[number, string]> }> }>(
      `/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${start}&end=${end}&step=${SCRAPE_SECONDS}`)).result,
    alerts: async () => (await api<{ alerts: Array<{ labels: Record<string, string>, state: string }> }>('/api/v1/alerts')).alerts,
    stop: async () => {
      await terminate(child)
      log.end()
    }
  }
}
