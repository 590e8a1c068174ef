import { ConfigError } from './errors'
import { LOG_LEVELS, type LogLevel } from './telemetry/log-levels'
import { GATEWAY_PORT, GATEWAY_SERVICE_NAME, GATEWAY_STATEFULSET_NAME, gatewayUrlTemplate, ORDINAL, podUrl } from './routing/pod-address'
import { isStrategyName, STRATEGY_NAMES, type StrategyName } from './routing/strategies'

/**
 * The router's whole configuration, parsed once from the environment at
 * start-up and frozen. Every variable is listed in the README's table; a bad
 * value stops the process with a line naming the variable.
 */
export interface RouterConfig {
  readonly numGatewayPods: number
  /** Base URL (origin) of each gateway pod, indexed by ordinal. */
  readonly gatewayUrls: readonly string[]
  /**
   * Where the URLs came from, when from a template: a gateway's `not_owner`
   * may name an ordinal past NUM_GATEWAY_PODS during a scale-up, and the
   * router can reach it only through the template. Undefined with GATEWAY_URLS.
   */
  readonly gatewayUrlTemplate: string | undefined
  readonly host: string
  readonly port: number
  readonly adminPort: number
  readonly strategy: StrategyName
  /** What to do with a request that names no guild. */
  readonly unrouted: 'reject' | 'pod0'
  readonly maxBodyBytes: number
  /** Covers connecting to the gateway and waiting for its response headers. */
  readonly requestDeadlineMs: number
  readonly upstreamConnectTimeoutMs: number
  readonly upstreamBodyTimeoutMs: number
  readonly upstreamConnections: number
  readonly upstreamKeepAliveTimeoutMs: number
  readonly clientHeadersTimeoutMs: number
  readonly clientRequestTimeoutMs: number
  readonly clientKeepAliveTimeoutMs: number
  /** Requests one client connection may carry before the router closes it (0: no limit). */
  readonly clientMaxRequestsPerConnection: number
  /** After an answer sent before the body was read: how long, and how much, to read and drop before closing. */
  readonly clientLingerMs: number
  readonly clientLingerBytes: number
  readonly trustProxyHeaders: boolean
  /** `none`: a guild is served by its owner or not at all. `next`: stateless gateways only. */
  readonly failover: 'none' | 'next'
  readonly retryMaxAttempts: number
  /** How long to wait before asking again a gateway that answered 421 `ownership_pending`. */
  readonly ownershipRetryMs: number
  readonly retryBaseMs: number
  readonly retryMaxBackoffMs: number
  readonly retryBudgetPercent: number
  readonly retryBudgetMin: number
  /** Bodies up to this size are read before sending, so a retry can replay them. */
  readonly retryBufferBytes: number
  readonly ejectConsecutiveFailures: number
  readonly ejectBaseMs: number
  readonly ejectMaxMs: number
  /** Unset: no active health checks. */
  readonly healthCheckPath: string | undefined
  readonly healthCheckIntervalMs: number
  readonly healthCheckTimeoutMs: number
  readonly drainDelayMs: number
  readonly shutdownTimeoutMs: number
  /** Requests the router sends its own code on loopback before it listens; 0: none. */
  readonly warmUpRequests: number
  readonly logLevel: LogLevel
}

export type { LogLevel } from './telemetry/log-levels'

export const DEFAULT_GATEWAY_URL_TEMPLATE = gatewayUrlTemplate({
  statefulSet: GATEWAY_STATEFULSET_NAME, service: GATEWAY_SERVICE_NAME, port: GATEWAY_PORT
})

type Env = Readonly<Record<string, string | undefined>>

export function parseConfig (env: Env): RouterConfig {
  const numGatewayPods = integer(env, 'NUM_GATEWAY_PODS', { min: 1, max: 100_000 })
  const addresses = gatewayAddresses(env, numGatewayPods)
  const config: RouterConfig = {
    numGatewayPods,
    gatewayUrls: addresses.urls,
    gatewayUrlTemplate: addresses.template,
    host: env.HOST === undefined || env.HOST === '' ? '0.0.0.0' : env.HOST,
    port: integer(env, 'PORT', { min: 0, max: 65_535, fallback: 8080 }),
    adminPort: integer(env, 'ADMIN_PORT', { min: 0, max: 65_535, fallback: 9090 }),
    strategy: oneOf(env, 'ROUTING_STRATEGY', STRATEGY_NAMES, 'md5-mod', isStrategyName),
    unrouted: oneOf(env, 'UNROUTED', ['reject', 'pod0'] as const, 'reject'),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', { min: 0, fallback: 1_048_576 }), // bytes
    // Discord wants an interaction's first answer within 3 s; leave it 500 ms.
    requestDeadlineMs: integer(env, 'REQUEST_DEADLINE_MS', { min: 1, fallback: 2_500 }),
    // In-cluster connects take well under a millisecond; a pod that has not
    // answered a SYN in a second is not going to.
    upstreamConnectTimeoutMs: integer(env, 'UPSTREAM_CONNECT_TIMEOUT_MS', { min: 1, fallback: 1_000 }),
    upstreamBodyTimeoutMs: integer(env, 'UPSTREAM_BODY_TIMEOUT_MS', { min: 0, fallback: 30_000 }),
    upstreamConnections: integer(env, 'UPSTREAM_CONNECTIONS', { min: 1, fallback: 128 }),
    // Below Node's default server keep-alive (5 s), so the router never reuses
    // a socket the gateway is about to close.
    upstreamKeepAliveTimeoutMs: integer(env, 'UPSTREAM_KEEPALIVE_TIMEOUT_MS', { min: 1, fallback: 4_000 }),
    clientHeadersTimeoutMs: integer(env, 'CLIENT_HEADERS_TIMEOUT_MS', { min: 1, fallback: 10_000 }),
    clientRequestTimeoutMs: integer(env, 'CLIENT_REQUEST_TIMEOUT_MS', { min: 1, fallback: 30_000 }),
    clientKeepAliveTimeoutMs: integer(env, 'CLIENT_KEEPALIVE_TIMEOUT_MS', { min: 1, fallback: 5_000 }),
    // nginx's keepalive_requests default: busy connections are renewed now
    // and then, so a Service spreads them over routers the HPA added.
    clientMaxRequestsPerConnection: integer(env, 'CLIENT_MAX_REQUESTS_PER_CONNECTION', { min: 0, fallback: 1_000 }),
    // nginx lingers up to 30 s; a client that sends more than 16 MiB past a
    // 1 MiB limit before it reads is not worth holding a socket for.
    clientLingerMs: integer(env, 'CLIENT_LINGER_MS', { min: 0, fallback: 5_000 }),
    clientLingerBytes: integer(env, 'CLIENT_LINGER_BYTES', { min: 0, fallback: 16_777_216 }), // bytes
    trustProxyHeaders: boolean(env, 'TRUST_PROXY_HEADERS', false),
    failover: oneOf(env, 'FAILOVER', ['none', 'next'] as const, 'none'),
    retryMaxAttempts: integer(env, 'RETRY_MAX_ATTEMPTS', { min: 1, max: 10, fallback: 3 }),
    // A moved guild's data takes milliseconds to a few seconds to arrive: ask
    // often enough that the wait ends soon after, inside the deadline.
    ownershipRetryMs: integer(env, 'OWNERSHIP_RETRY_MS', { min: 1, fallback: 200 }),
    // Envoy's defaults: 25 ms doubling to 250 ms, with full jitter.
    retryBaseMs: integer(env, 'RETRY_BASE_MS', { min: 1, fallback: 25 }),
    retryMaxBackoffMs: integer(env, 'RETRY_MAX_BACKOFF_MS', { min: 1, fallback: 250 }),
    retryBudgetPercent: integer(env, 'RETRY_BUDGET_PERCENT', { min: 0, max: 100, fallback: 20 }),
    retryBudgetMin: integer(env, 'RETRY_BUDGET_MIN', { min: 0, fallback: 3 }),
    retryBufferBytes: integer(env, 'RETRY_BUFFER_BYTES', { min: 0, fallback: 65_536 }), // bytes
    ejectConsecutiveFailures: integer(env, 'EJECT_CONSECUTIVE_FAILURES', { min: 1, fallback: 3 }),
    // Short: a restarting pod is usually back in seconds, and while it is
    // ejected its guilds are unavailable (fail closed).
    ejectBaseMs: integer(env, 'EJECT_BASE_MS', { min: 1, fallback: 2_000 }),
    ejectMaxMs: integer(env, 'EJECT_MAX_MS', { min: 1, fallback: 30_000 }),
    healthCheckPath: optionalPath(env, 'HEALTH_CHECK_PATH'),
    healthCheckIntervalMs: integer(env, 'HEALTH_CHECK_INTERVAL_MS', { min: 10, fallback: 1_000 }),
    healthCheckTimeoutMs: integer(env, 'HEALTH_CHECK_TIMEOUT_MS', { min: 1, fallback: 500 }),
    // Matches the pod's preStop pause: endpoints keep sending for a moment
    // after SIGTERM, so the router keeps serving them.
    drainDelayMs: integer(env, 'DRAIN_DELAY_MS', { min: 0, fallback: 5_000 }),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', { min: 0, fallback: 10_000 }),
    warmUpRequests: integer(env, 'WARM_UP_REQUESTS', { min: 0, max: 1_000_000, fallback: 5_000 }),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info')
  }
  if (config.retryBaseMs > config.retryMaxBackoffMs) {
    throw new ConfigError('RETRY_BASE_MS', `must not exceed RETRY_MAX_BACKOFF_MS (${config.retryMaxBackoffMs}) (got ${config.retryBaseMs})`)
  }
  // Port 0 asks the kernel for a free port each time, so two zeros never collide.
  if (config.port !== 0 && config.port === config.adminPort) {
    throw new ConfigError('ADMIN_PORT', `must differ from PORT (both ${config.port}): the admin port is never served on the proxy port`)
  }
  if (config.ejectBaseMs > config.ejectMaxMs) {
    throw new ConfigError('EJECT_BASE_MS', `must not exceed EJECT_MAX_MS (${config.ejectMaxMs}) (got ${config.ejectBaseMs})`)
  }
  return Object.freeze(config)
}

function gatewayAddresses (env: Env, numPods: number): { urls: readonly string[], template: string | undefined } {
  const list = env.GATEWAY_URLS
  if (list !== undefined && list.trim() !== '') {
    const urls = list.split(',').map(s => s.trim())
    if (urls.length !== numPods) {
      throw new ConfigError('GATEWAY_URLS',
        `must list exactly NUM_GATEWAY_PODS (${numPods}) comma-separated base URLs, one per ordinal (got ${urls.length})`)
    }
    return { urls: Object.freeze(urls.map(u => baseUrl('GATEWAY_URLS', u))), template: undefined }
  }
  const template = env.GATEWAY_URL_TEMPLATE ?? DEFAULT_GATEWAY_URL_TEMPLATE
  if (!template.includes(ORDINAL)) {
    throw new ConfigError('GATEWAY_URL_TEMPLATE',
      `must contain ${ORDINAL}, e.g. ${DEFAULT_GATEWAY_URL_TEMPLATE} (got ${JSON.stringify(template)})`)
  }
  const urls: string[] = []
  for (let n = 0; n < numPods; n++) {
    urls.push(baseUrl('GATEWAY_URL_TEMPLATE', podUrl(template, n)))
  }
  return { urls: Object.freeze(urls), template }
}

/** A gateway base URL is an http(s) origin: requests keep their own path. */
function baseUrl (variable: string, raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(variable, `must hold http:// or https:// base URLs (got ${JSON.stringify(raw)})`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(variable, `must hold http:// or https:// base URLs (got ${JSON.stringify(raw)})`)
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new ConfigError(variable, `must hold origins only, with no path, query or credentials (got ${JSON.stringify(raw)})`)
  }
  return url.origin
}

function integer (env: Env, name: string, opts: { min: number, max?: number, fallback?: number }): number {
  const raw = env[name]
  const range = opts.max === undefined ? `≥ ${opts.min}` : `from ${opts.min} to ${opts.max}`
  if (raw === undefined || raw.trim() === '') {
    if (opts.fallback !== undefined) return opts.fallback
    throw new ConfigError(name, `is required: an integer ${range}`)
  }
  // Digits only: a stray space usually means a templating slip worth seeing.
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(value) || value < opts.min || (opts.max !== undefined && value > opts.max)) {
    throw new ConfigError(name, `must be an integer ${range} (got ${JSON.stringify(raw)})`)
  }
  return value
}

function oneOf<T extends string> (env: Env, name: string, allowed: readonly T[], fallback: T,
  guard: (v: string) => v is T = (v): v is T => (allowed as readonly string[]).includes(v)): T {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!guard(raw)) throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got ${JSON.stringify(raw)})`)
  return raw
}

function optionalPath (env: Env, name: string): string | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  if (!/^\/\S*$/.test(raw)) throw new ConfigError(name, `must be an absolute path such as /healthz (got ${JSON.stringify(raw)})`)
  return raw
}

function boolean (env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (raw === 'true' || raw === '1') return true
  if (raw === 'false' || raw === '0') return false
  throw new ConfigError(name, `must be true or false (got ${JSON.stringify(raw)})`)
}
