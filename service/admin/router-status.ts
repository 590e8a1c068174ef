import type { RouterConfig } from '../config'
import { topologyVersion } from '../gateway/topology'
import type { GatewayTopology } from './gateway-topologies'
import type { PodHotGuilds } from '../telemetry/hot-guilds'
import type { RouterMetrics } from '../telemetry/metrics'
import type { PodHealth, PodState } from '../proxy/pod-health'
import type { RetryBudget } from '../proxy/retry-budget'

export interface PodRow {
  readonly pod: number
  readonly url: string
  readonly state: PodState
  /** ISO time the ejection ends, while ejected or half-open. */
  readonly ejectedUntil: string | null
  /** ISO time of the ejection, while ejected or half-open. */
  readonly ejectedSince: string | null
  readonly consecutiveFailures: number
  readonly ejections: number
  readonly requests: number
  readonly errors: number
  readonly errorRate: number
  readonly p99Ms: number | null
  /** The topology the gateway says it holds; null when it has not answered. */
  readonly topology: GatewayTopology | null
  /** The pod's most requested guilds through this router over the last minute, with the sketch's error bound. */
  readonly hotGuilds: PodHotGuilds
}

export interface RouterStatus {
  readonly strategy: string
  readonly numPods: number
  /** This router's topology (its strategy and NUM_GATEWAY_PODS), named as the gateways name theirs. */
  readonly topologyVersion: string
  readonly failover: string
  readonly draining: boolean
  readonly generatedAt: string
  readonly pods: readonly PodRow[]
  readonly retryBudget: { readonly requestsInFlight: number, readonly retriesInFlight: number, readonly limit: number, readonly exhausted: number }
}

export interface StatusSources {
  readonly config: RouterConfig
  readonly metrics: RouterMetrics
  readonly health: PodHealth
  readonly budget: RetryBudget
  readonly draining: () => boolean
  readonly gatewayTopologies: ReadonlyArray<GatewayTopology | null>
}

/** Hot guilds listed per pod on the status page and in /status. */
export const HOT_GUILDS_SHOWN = 5

/** What the on-call engineer asks first, in one object: the status page and `/status` serve it. */
export function routerStatus (src: StatusSources): RouterStatus {
  const pods = src.config.gatewayUrls.map((url, pod): PodRow => {
    const health = src.health.status(pod)
    const traffic = src.metrics.recent.snapshot(pod)
    return {
      pod,
      url,
      state: health.state,
      ejectedUntil: health.ejectedUntil === 0 ? null : new Date(health.ejectedUntil).toISOString(),
      ejectedSince: health.ejectedAt === 0 ? null : new Date(health.ejectedAt).toISOString(),
      consecutiveFailures: health.consecutiveFailures,
      ejections: health.ejections,
      ...traffic,
      topology: src.gatewayTopologies[pod] ?? null,
      hotGuilds: src.metrics.hot.top(pod, HOT_GUILDS_SHOWN)
    }
  })
  return {
    strategy: src.config.strategy,
    numPods: src.config.numGatewayPods,
    topologyVersion: topologyVersion({ strategy: src.config.strategy, count: src.config.numGatewayPods }),
    failover: src.config.failover,
    draining: src.draining(),
    generatedAt: new Date().toISOString(),
    pods,
    retryBudget: src.budget.snapshot()
  }
}
