/**
 * The stack's configuration, read once and checked before any resource is
 * declared, so a bad value fails `pulumi preview` with a message that names
 * the key. Defaults live in Pulumi.yaml only (the CLI merges them); this file
 * holds the rules, not a second copy of the defaults.
 */
import { LOG_LEVELS } from '../service/telemetry/log-levels'
import { STRATEGY_NAMES, type StrategyName } from '../service/routing/strategy-names'
import { APP } from './labels'
import { quantityMiB, ROUTER_MIN_MEMORY_LIMIT_MIB, ROUTER_OUTSIDE_OLD_SPACE_MIB } from './memory'
import { parseTolerations, SPREADS, type Placement, type Toleration } from './placement'

/** The Pulumi project: its config keys are `guild-router:<key>`. */
export const PROJECT = APP

export const ROUTING_STRATEGIES = STRATEGY_NAMES
export type RoutingStrategyName = StrategyName

export interface Resources {
  readonly cpuRequest: string
  readonly memoryRequest: string
  readonly memoryLimit: string
}

export const IMAGE_PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const
export type ImagePullPolicy = typeof IMAGE_PULL_POLICIES[number]

export interface StackConfig {
  readonly namespace: string
  readonly createNamespace: boolean
  readonly routingStrategy: RoutingStrategyName
  /** Unset: Kubernetes' default for the tag. `Never` for clusters whose nodes were loaded with the images (air-gapped). */
  readonly imagePullPolicy: ImagePullPolicy | undefined
  readonly gateway: {
    readonly replicas: number
    /** Unset: the router image runs the bundled reference gateway. */
    readonly image: string | undefined
    readonly port: number
    /** Where gateways talk to each other (topology, handoffs); routers never dial it. */
    readonly peerPort: number
    /** Where gateways serve GET /metrics; any pod may scrape it. */
    readonly metricsPort: number
    /** How long `pulumi up` waits for a scale-down's handoff before it fails without shrinking. */
    readonly handoffTimeoutSeconds: number
    readonly storageSize: string
    readonly storageClass: string | undefined
    readonly healthPath: string
    /** The cluster DNS's cache TTL: how stale a list of the gateway peers may be (the `file` source). */
    readonly peerListTtlSeconds: number
    /** `api`: watch the ConfigMap and the peers' EndpointSlices; `file`: kubelet's copy and DNS, no API access. */
    readonly topologySource: 'api' | 'file'
    readonly resources: Resources
    readonly placement: Placement
  }
  readonly router: {
    readonly image: string
    readonly minReplicas: number
    readonly maxReplicas: number
    readonly cpuTarget: number
    readonly scaleDownStabilizationSeconds: number
    readonly port: number
    readonly adminPort: number
    readonly drainSeconds: number
    readonly shutdownTimeoutSeconds: number
    readonly requestDeadlineMs: number
    readonly unrouted: 'reject' | 'pod0'
    readonly logLevel: string
    readonly resources: Resources
    readonly placement: Placement
  }
  readonly clusterDomain: string
  /** Ship the Grafana dashboard as a sidecar-labelled ConfigMap, into this namespace. */
  readonly grafanaDashboard: { readonly enabled: boolean, readonly namespace: string | undefined }
  /** prometheus-operator objects: PodMonitors for both tiers and a PrometheusRule with the alerts, carrying these labels. */
  readonly prometheusOperator: { readonly podMonitor: boolean, readonly prometheusRule: boolean, readonly labels: Readonly<Record<string, string>> }
}

export class StackConfigError extends Error {
  readonly key: string
  constructor (key: string, message: string) {
    super(`${PROJECT}:${key} ${message}`)
    this.name = 'StackConfigError'
    this.key = key
  }
}

/** Reads a key's raw string, or undefined when unset. */
export type ConfigSource = (key: string) => string | undefined

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/

export function parseStackConfig (get: ConfigSource): StackConfig {
  const r = new Reader(get)
  const config: StackConfig = {
    namespace: r.matching('namespace', DNS_LABEL, 'must be a DNS label (lower-case letters, digits and -, at most 63)', 63),
    createNamespace: r.boolean('createNamespace'),
    routingStrategy: r.oneOf('routingStrategy', ROUTING_STRATEGIES),
    imagePullPolicy: r.optional('imagePullPolicy') === undefined ? undefined : r.oneOf('imagePullPolicy', IMAGE_PULL_POLICIES),
    gateway: {
      replicas: r.integer('gatewayReplicas', 1, 1000),
      image: r.optional('gatewayImage'),
      port: r.integer('gatewayPort', 1, 65_535),
      peerPort: r.integer('gatewayPeerPort', 1, 65_535),
      metricsPort: r.integer('gatewayMetricsPort', 1, 65_535),
      handoffTimeoutSeconds: r.integer('gatewayHandoffTimeoutSeconds', 10, 86_400),
      storageSize: r.quantity('gatewayStorageSize'),
      storageClass: r.optional('gatewayStorageClass'),
      healthPath: r.matching('gatewayHealthPath', /^\/\S*$/, 'must be an absolute path such as /healthz'),
      peerListTtlSeconds: r.integer('gatewayPeerListTtlSeconds', 0, 3600),
      topologySource: r.oneOf('gatewayTopologySource', ['api', 'file'] as const),
      resources: {
        cpuRequest: r.quantity('gatewayCpuRequest'),
        memoryRequest: r.quantity('gatewayMemoryRequest'),
        memoryLimit: r.quantity('gatewayMemoryLimit')
      },
      placement: {
        spread: r.oneOf('gatewaySpread', SPREADS),
        nodeSelector: r.labels('gatewayNodeSelector'),
        tolerations: r.tolerations('gatewayTolerations'),
        ...optionalEntry('priorityClassName', r.matchingOptional('gatewayPriorityClassName', /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a PriorityClass name (lower-case letters, digits, - and .)'))
      }
    },
    router: {
      image: r.required('routerImage'),
      minReplicas: r.integer('routerMinReplicas', 1, 1000),
      maxReplicas: r.integer('routerMaxReplicas', 1, 1000),
      cpuTarget: r.integer('routerCpuTarget', 1, 100),
      scaleDownStabilizationSeconds: r.integer('routerScaleDownStabilizationSeconds', 0, 3600),
      port: r.integer('routerPort', 1, 65_535),
      adminPort: r.integer('routerAdminPort', 1, 65_535),
      drainSeconds: r.integer('routerDrainSeconds', 0, 300),
      shutdownTimeoutSeconds: r.integer('routerShutdownTimeoutSeconds', 0, 600),
      requestDeadlineMs: r.integer('routerRequestDeadlineMs', 1, 600_000),
      unrouted: r.oneOf('routerUnrouted', ['reject', 'pod0'] as const),
      logLevel: r.oneOf('routerLogLevel', LOG_LEVELS),
      resources: {
        cpuRequest: r.quantity('routerCpuRequest'),
        memoryRequest: r.quantity('routerMemoryRequest'),
        memoryLimit: r.quantity('routerMemoryLimit')
      },
      placement: {
        spread: r.oneOf('routerSpread', SPREADS),
        nodeSelector: r.labels('routerNodeSelector'),
        tolerations: r.tolerations('routerTolerations')
      }
    },
    clusterDomain: r.matching('clusterDomain', /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS domain such as cluster.local'),
    grafanaDashboard: {
      enabled: r.boolean('grafanaDashboard'),
      namespace: r.optional('grafanaDashboardNamespace')
    },
    prometheusOperator: {
      podMonitor: r.boolean('podMonitor'),
      prometheusRule: r.boolean('prometheusRule'),
      labels: r.labels('prometheusOperatorLabels')
    }
  }
  if (config.router.minReplicas > config.router.maxReplicas) {
    throw new StackConfigError('routerMinReplicas',
      `(${config.router.minReplicas}) must not exceed ${PROJECT}:routerMaxReplicas (${config.router.maxReplicas})`)
  }
  for (const [key, resources] of [['gateway', config.gateway.resources], ['router', config.router.resources]] as const) {
    if (quantityMiB(resources.memoryRequest) > quantityMiB(resources.memoryLimit)) {
      throw new StackConfigError(`${key}MemoryRequest`, `(${resources.memoryRequest}) must not exceed ${PROJECT}:${key}MemoryLimit (${resources.memoryLimit})`)
    }
  }
  if (quantityMiB(config.router.resources.memoryLimit) < ROUTER_MIN_MEMORY_LIMIT_MIB) {
    throw new StackConfigError('routerMemoryLimit',
      `must be at least ${ROUTER_MIN_MEMORY_LIMIT_MIB}Mi: about ${ROUTER_OUTSIDE_OLD_SPACE_MIB} MiB of the router is resident outside its heap, and the heap needs room (got ${config.router.resources.memoryLimit})`)
  }
  if (config.router.port === config.router.adminPort) {
    throw new StackConfigError('routerAdminPort', `must differ from ${PROJECT}:routerPort (both ${config.router.port})`)
  }
  if (config.gateway.peerPort === config.gateway.port) {
    // SECURITY: routers dial the gateway port and forward any path; handoffs must not be reachable that way.
    throw new StackConfigError('gatewayPeerPort', `must differ from ${PROJECT}:gatewayPort (both ${config.gateway.port})`)
  }
  for (const [key, port] of [['gatewayPort', config.gateway.port], ['gatewayPeerPort', config.gateway.peerPort]] as const) {
    // SECURITY: the metrics port is open to any pod; the peer port must not be.
    if (config.gateway.metricsPort === port) throw new StackConfigError('gatewayMetricsPort', `must differ from ${PROJECT}:${key} (both ${port})`)
  }
  return Object.freeze(config)
}

function optionalEntry<K extends string, V> (key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V }
}

/** Typed getters that name the key in every error. */
class Reader {
  constructor (private readonly get: ConfigSource) {}

  optional (key: string): string | undefined {
    const v = this.get(key)
    return v === undefined || v.trim() === '' ? undefined : v.trim()
  }

  required (key: string): string {
    const v = this.optional(key)
    if (v === undefined) throw new StackConfigError(key, 'is required (set it with `pulumi config set`)')
    return v
  }

  integer (key: string, min: number, max: number): number {
    const raw = this.required(key)
    const n = /^-?[0-9]+$/.test(raw) ? Number(raw) : Number.NaN
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new StackConfigError(key, `must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`)
    }
    return n
  }

  boolean (key: string): boolean {
    const raw = this.required(key)
    if (raw === 'true') return true
    if (raw === 'false') return false
    throw new StackConfigError(key, `must be true or false (got ${JSON.stringify(raw)})`)
  }

  tolerations (key: string): Toleration[] {
    const parsed = parseTolerations(this.optional(key) ?? '')
    if (typeof parsed === 'string') throw new StackConfigError(key, parsed)
    return parsed
  }

  matchingOptional (key: string, pattern: RegExp, rule: string): string | undefined {
    return this.optional(key) === undefined ? undefined : this.matching(key, pattern, rule)
  }

  /** `key=value,key=value`: label pairs for objects another controller selects by label. */
  labels (key: string): Record<string, string> {
    const raw = this.optional(key)
    if (raw === undefined) return {}
    const labels: Record<string, string> = {}
    for (const pair of raw.split(',')) {
      const m = /^\s*([A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?)=([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?\s*$/.exec(pair)
      if (m === null) throw new StackConfigError(key, `must be label pairs such as release=kube-prometheus-stack,team=bots (got ${JSON.stringify(raw)})`)
      labels[m[1] as string] = m[3] ?? ''
    }
    return labels
  }

  oneOf<T extends string> (key: string, allowed: readonly T[]): T {
    const raw = this.required(key)
    if (!(allowed as readonly string[]).includes(raw)) {
      throw new StackConfigError(key, `must be one of ${allowed.join(', ')} (got ${JSON.stringify(raw)})`)
    }
    return raw as T
  }

  matching (key: string, pattern: RegExp, rule: string, maxLength = 253): string {
    const raw = this.required(key)
    if (!pattern.test(raw) || raw.length > maxLength) throw new StackConfigError(key, `${rule} (got ${JSON.stringify(raw)})`)
    return raw
  }

  quantity (key: string): string {
    return this.matching(key, QUANTITY, 'must be a Kubernetes quantity such as 250m, 512Mi or 10Gi')
  }
}
