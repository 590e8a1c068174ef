import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric, type MetricObjectWithValues, type MetricValueWithName } from 'prom-client'
import type { PodState } from '../proxy/pod-health'
import { HotGuilds } from './hot-guilds'
import { RecentTraffic } from './recent-traffic'
import { RequestTotals } from './request-totals'

/**
 * The router's Prometheus metrics, on a registry of its own so several routers
 * can live in one process (tests, an app embedding the middleware). The two
 * metrics every request touches, the request count and its latency, are kept
 * in typed arrays (RequestTotals) and handed to prom-client at scrape time:
 * even a pre-bound prom-client child builds a label key string and a value
 * object per observation, measured at 2–3% of a saturated router's CPU.
 */
export interface RouterMetrics {
  readonly registry: Registry
  /** The last minute per pod, for the status page. */
  readonly recent: RecentTraffic
  /** The last minute's most requested guilds per pod (hot-guilds.ts). */
  readonly hot: HotGuilds
  /**
   * A request answered, by the gateway or by the router; pod -1 = no pod
   * chosen. `status` is CLIENT_CLOSED or RESPONSE_CUT when none was completed.
   */
  observe (pod: number, status: number, seconds: number, guildId?: string): void
  upstreamError (pod: number, code: string): void
  /** A retry was scheduled after a failure at `pod`; reason: never-sent, maybe-received, retry-after. */
  retry (pod: number, reason: string): void
  /** A request for `owner` was sent to another pod (FAILOVER=next). */
  failover (owner: number): void
  budgetExhausted (): void
  /** What the router did with a gateway's 421 (refusal-policy.ts): `redirect`, `wait` or `pass` (sent to the client). */
  ownershipRefusal (pod: number, action: string): void
  podState (pod: number, state: PodState): void
  ejected (pod: number): void
}

const POD_STATES: readonly PodState[] = ['up', 'ejected', 'half-open']

/**
 * Outcomes with no status the client received, passed to `observe` in place
 * of one: the client hung up before its answer was complete, or the gateway
 * failed after the status line was sent and the router cut the connection.
 */
export const CLIENT_CLOSED = 0
export const RESPONSE_CUT = -1

// Indexed by status / 100 - 1; the two outcomes above come after.
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'client_closed', 'cut'] as const
const CLIENT_CLOSED_CLASS = 5
const CUT_CLASS = 6
// Latency buckets for a 2.5 s deadline: fine below 10 ms, where a healthy hop sits.
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/**
 * The gateway label is `gateway`, not `pod`: Kubernetes pod discovery puts a
 * target label `pod` (the scraped router's name) on every series, and with
 * honor_labels false, Prometheus' default and the operator's, a metric's own
 * `pod` would be renamed `exported_pod`, so a panel grouping by pod would
 * group by router.
 */
export interface MetricsOptions {
  readonly defaultMetrics?: boolean
  /** This router's topology, exported as guild_router_topology_info so replicas that disagree show. */
  readonly topology?: { readonly strategy: string, readonly version: string }
  /** Hot guilds exported per gateway pod (the status page shows more). */
  readonly hotGuildSeries?: number
}

// prom-client's default set also has these as gauges named without the
// suffix; a gauge ending in _total breaks the exposition format's naming
// rules (promtool check metrics).
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

/** prom-client's process and runtime metrics under `prefix`, less the gauges promtool rejects. Shared with the gateway's metrics. */
export function collectRuntimeMetrics (registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix })
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(`${prefix}${name}`)
}

export function createMetrics (numPods: number, opts: MetricsOptions = {}): RouterMetrics {
  const registry = new Registry()
  if (opts.defaultMetrics !== false) collectRuntimeMetrics(registry, 'guild_router_')

  const totals = new RequestTotals(numPods + 1, STATUS_CLASSES, BUCKETS)
  const podLabel = (pod: number): string => (pod < 0 ? 'none' : String(pod))
  const slotLabels = Array.from({ length: numPods + 1 }, (_, slot) => podLabel(slot - 1))
  new Counter({
    name: 'guild_router_requests_total',
    help: 'Requests answered, by gateway pod ordinal ("none" when no pod was chosen) and status class (client_closed: the client hung up first; cut: the gateway failed mid-response).',
    labelNames: ['gateway', 'status_class'] as const,
    registers: [registry],
    collect () {
      this.reset()
      for (let slot = 0; slot < totals.slots; slot++) {
        STATUS_CLASSES.forEach((statusClass, c) => {
          const n = totals.count(slot, c)
          if (n > 0) this.inc({ gateway: slotLabels[slot] as string, status_class: statusClass }, n)
        })
      }
    }
  })
  registry.registerMetric(latencyHistogram(totals, slotLabels))
  const upstreamErrors = new Counter({
    name: 'guild_router_upstream_errors_total',
    help: 'Failed exchanges with a gateway pod, by pod and error code.',
    labelNames: ['gateway', 'code'] as const,
    registers: [registry]
  })

  const retries = new Counter({
    name: 'guild_router_retries_total',
    help: 'Retries scheduled, by the pod that failed and why (never-sent, maybe-received, retry-after).',
    labelNames: ['gateway', 'reason'] as const,
    registers: [registry]
  })
  const failovers = new Counter({
    name: 'guild_router_failovers_total',
    help: 'Requests sent to a pod other than their owner (FAILOVER=next), by owner.',
    labelNames: ['owner'] as const,
    registers: [registry]
  })
  const budgetExhausted = new Counter({
    name: 'guild_router_retry_budget_exhausted_total',
    help: 'Retries refused because the retry budget was spent.',
    registers: [registry]
  })
  const ownershipRefusals = new Counter({
    name: 'guild_router_ownership_refusals_total',
    help: 'Gateway 421 answers, by the pod that refused and what the router did: redirect (followed not_owner once), wait (asked a pending owner again), pass (answered the client with it).',
    labelNames: ['gateway', 'action'] as const,
    registers: [registry]
  })
  const ejections = new Counter({
    name: 'guild_router_ejections_total',
    help: 'Times a pod was ejected after consecutive connection failures, by pod.',
    labelNames: ['gateway'] as const,
    registers: [registry]
  })
  const podStates = new Gauge({
    name: 'guild_router_pod_state',
    help: 'Each pod\'s state as this router sees it: 1 for the current state (up, ejected, half-open), 0 otherwise.',
    labelNames: ['gateway', 'state'] as const,
    registers: [registry]
  })
  for (let pod = 0; pod < numPods; pod++) {
    for (const state of POD_STATES) podStates.labels(String(pod), state).set(state === 'up' ? 1 : 0)
    ejections.labels(String(pod)).inc(0)
  }
  budgetExhausted.inc(0)
  new Gauge({
    name: 'guild_router_gateways',
    help: 'The gateway count this router routes by (NUM_GATEWAY_PODS).',
    registers: [registry]
  }).set(numPods)
  if (opts.topology !== undefined) {
    new Gauge({
      name: 'guild_router_topology_info',
      help: 'Always 1; its labels name the topology this router routes by, as the gateways name theirs.',
      labelNames: ['strategy', 'version'] as const,
      registers: [registry]
    }).labels(opts.topology.strategy, opts.topology.version).set(1)
  }

  const recent = new RecentTraffic(numPods)
  const hot = new HotGuilds(numPods)
  hotGuildGauges(registry, hot, numPods, opts.hotGuildSeries ?? 5)

  return {
    registry,
    recent,
    hot,
    observe (pod, status, seconds, guildId) {
      const now = Date.now()
      recent.record(pod, status, seconds, now)
      if (guildId !== undefined) hot.record(pod, guildId, now)
      const index = status === CLIENT_CLOSED
        ? CLIENT_CLOSED_CLASS
        : status === RESPONSE_CUT ? CUT_CLASS : Math.min(Math.max(Math.floor(status / 100), 1), 5) - 1
      totals.record(pod + 1, index, seconds)
    },
    upstreamError (pod, code) {
      upstreamErrors.labels(podLabel(pod), code).inc()
    },
    retry (pod, reason) {
      retries.labels(podLabel(pod), reason).inc()
    },
    failover (owner) {
      failovers.labels(podLabel(owner)).inc()
    },
    budgetExhausted () {
      budgetExhausted.inc()
    },
    ownershipRefusal (pod, action) {
      ownershipRefusals.labels(podLabel(pod), action).inc()
    },
    podState (pod, state) {
      for (const s of POD_STATES) podStates.labels(String(pod), s).set(s === state ? 1 : 0)
    },
    ejected (pod) {
      ejections.labels(String(pod)).inc()
    }
  }
}

/**
 * guild_router_request_duration_seconds, exported from RequestTotals. prom-client's
 * Histogram can only be fed one observation at a time, so this is a metric of
 * its own: `registerMetric` takes any object that answers `get()` with the
 * values to print, which is all the registry asks of its metrics.
 */
function latencyHistogram (totals: RequestTotals, slotLabels: readonly string[]): Metric {
  const name = 'guild_router_request_duration_seconds'
  const bounds = [...totals.bounds.map(String), '+Inf']
  const metric = {
    name,
    help: 'Time from receiving a request to the end of its response, by gateway pod ordinal.',
    type: 'histogram',
    aggregator: 'sum',
    get: async (): Promise<MetricObjectWithValues<MetricValueWithName<string>>> => {
      const values: Array<MetricValueWithName<string>> = []
      for (let slot = 0; slot < totals.slots; slot++) {
        if (totals.total(slot) === 0) continue
        const pod = slotLabels[slot] as string
        totals.cumulative(slot).forEach((value, b) => {
          values.push({ metricName: `${name}_bucket`, labels: { gateway: pod, le: bounds[b] as string }, value })
        })
        values.push({ metricName: `${name}_sum`, labels: { gateway: pod }, value: totals.sum(slot) })
        values.push({ metricName: `${name}_count`, labels: { gateway: pod }, value: totals.total(slot) })
      }
      return { name, help: metric.help, type: metric.type, aggregator: metric.aggregator, values } as unknown as MetricObjectWithValues<MetricValueWithName<string>>
    }
  }
  return metric as unknown as Metric
}

/**
 * The top guilds of each gateway pod over the last minute, a bounded number of
 * series: `limit` per pod at most, replaced as the ranking changes, never one
 * per guild seen. Summed across routers with
 * `sum by (gateway, guild) (guild_router_hot_guild_requests)`.
 */
function hotGuildGauges (registry: Registry, hot: HotGuilds, numPods: number, limit: number): void {
  new Gauge({
    name: 'guild_router_hot_guild_requests',
    help: `Requests this router sent for each of the ${limit} most requested guilds of each gateway pod over the last minute, estimated from a random sample of requests (may overstate by up to guild_router_hot_guild_error_bound, plus sampling error).`,
    labelNames: ['gateway', 'guild'] as const,
    registers: [registry],
    collect () {
      this.reset()
      for (let pod = 0; pod < numPods; pod++) {
        for (const g of hot.top(pod, limit).top) this.labels(String(pod), g.guildId).set(g.requests)
      }
    }
  })
  new Gauge({
    name: 'guild_router_hot_guild_error_bound',
    help: 'The most any guild_router_hot_guild_requests value of a gateway pod overstates its guild, and the most requests a guild not listed had.',
    labelNames: ['gateway'] as const,
    registers: [registry],
    collect () {
      for (let pod = 0; pod < numPods; pod++) this.labels(String(pod)).set(hot.bound(pod))
    }
  })
}
