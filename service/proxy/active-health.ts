import type { GatewayPools } from './gateway-pools'
import type { PodHealth } from './pod-health'
import { classifyUpstreamError } from './upstream-failure'

export interface ActiveHealthSettings {
  readonly path: string
  readonly intervalMs: number
  readonly timeoutMs: number
}

/**
 * Optional active checks: every interval, each pod this router has ejected is
 * asked for `path`, and the first answer (any status: the pod is reachable)
 * brings it back at once instead of after its ejection time. Healthy pods are
 * left alone; live traffic already tells how they are.
 */
export function startActiveHealthChecks (pools: GatewayPools, health: PodHealth, settings: ActiveHealthSettings): () => void {
  const inFlight = new Set<number>()

  async function check (pod: number): Promise<void> {
    inFlight.add(pod)
    try {
      const res = await pools.pool(pod).request({
        path: settings.path, method: 'GET', headersTimeout: settings.timeoutMs, bodyTimeout: settings.timeoutMs,
        signal: AbortSignal.timeout(settings.timeoutMs)
      })
      await res.body.dump()
      health.answering(pod)
    } catch (err) {
      if (classifyUpstreamError(err, pod).delivery === 'never-sent' && health.status(pod).state === 'half-open') {
        health.failed(pod, 'never-sent')
      }
    } finally {
      inFlight.delete(pod)
    }
  }

  const timer = setInterval(() => {
    for (let pod = 0; pod < health.size; pod++) {
      if (health.status(pod).state !== 'up' && !inFlight.has(pod)) void check(pod)
    }
  }, settings.intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
