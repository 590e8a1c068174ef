import { createServer, type Server } from 'node:http'
import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import { createAdminApp } from '../admin/admin-app'
import type { RouterConfig } from '../config'
import { createLogger, type Logger } from '../telemetry/logger'
import { topologyVersion } from '../gateway/topology'
import { createMetrics, type RouterMetrics } from '../telemetry/metrics'
import { createProxyServer } from './proxy-server'
import { warmUp } from './warm-up'
import { startActiveHealthChecks } from '../proxy/active-health'
import { GatewayPools } from '../proxy/gateway-pools'
import type { PodHealth } from '../proxy/pod-health'
import { budgetFor, createProxyHandler, healthFor, type ProxyHandler } from '../proxy/proxy-handler'
import { answerClientError, answerConnect } from '../proxy/client-errors'
import type { RetryBudget } from '../proxy/retry-budget'

export interface RunningRouter {
  readonly port: number
  readonly adminPort: number
  readonly metrics: RouterMetrics
  readonly health: PodHealth
  readonly budget: RetryBudget
  /** Drain and stop: readiness fails at once, serving continues for the drain delay. */
  shutdown (): Promise<void>
}

/**
 * The standalone router: the proxy straight on node:http (measured: Express in
 * front of it cost 8% of the throughput in `npm run bench:hot-path`), and the
 * admin endpoints on an Express app on their own port.
 */
export async function startRouter (config: RouterConfig, logger: Logger = createLogger(config.logLevel)): Promise<RunningRouter> {
  if (config.warmUpRequests > 0) {
    // Before either port opens: the readiness probe fails until the hot path is compiled.
    const warm = await warmUp(config, config.warmUpRequests)
    logger.info({ requests: warm.requests, failed: warm.failed, ms: Math.round(warm.ms) }, 'warmed up')
  }
  const metrics = createMetrics(config.numGatewayPods, { topology: { strategy: config.strategy, version: topologyVersion({ strategy: config.strategy, count: config.numGatewayPods }) } })
  const pools = new GatewayPools(config)
  const health = healthFor(config)
  const budget = budgetFor(config)
  watchHealth(health, metrics, logger)
  const stopChecks = config.healthCheckPath === undefined
    ? () => {}
    : startActiveHealthChecks(pools, health, {
      path: config.healthCheckPath, intervalMs: config.healthCheckIntervalMs, timeoutMs: config.healthCheckTimeoutMs
    })
  const proxy: ProxyHandler = createProxyHandler({ config, pools, health, budget, metrics, logger })
  let draining = false

  const server = createProxyServer(config, (req, res) => {
    // While draining, every response closes its connection, so that when the
    // listener stops no idle keep-alive socket is left for a client to race a
    // request onto.
    if (draining) res.shouldKeepAlive = false
    proxy(req, res)
  })
  server.on('clientError', (err: Error, socket) => answerClientError(err, socket, metrics))
  server.on('connect', (req, socket) => answerConnect(req, socket, metrics))
  const admin = createServer(createAdminApp({ config, metrics, health, budget, ready: () => !draining }))

  await Promise.all([listen(server, config.port, config.host), listen(admin, config.adminPort, config.host)])
  const port = (server.address() as AddressInfo).port
  const adminPort = (admin.address() as AddressInfo).port

  let stopping: Promise<void> | undefined
  async function stop (): Promise<void> {
    draining = true
    logger.info({ drainDelayMs: config.drainDelayMs }, 'draining: readiness now fails')
    // Endpoints and kube-proxy rules lag the readiness change; keep serving meanwhile.
    await delay(config.drainDelayMs)
    const closed = new Promise<boolean>(resolve => server.once('close', () => resolve(true)))
    // Stop accepting, without http.Server.close()'s closing of idle connections.
    // An idle keep-alive connection is one its client may be writing a request
    // onto right now: closing it from this side races that request, and the
    // client gets a reset with no answer (seen as UND_ERR_SOCKET in a real
    // rescale). Every response says `Keep-Alive: timeout=<keep-alive>`, and a
    // client that honours it closes its idle connection itself before then;
    // every response since SIGTERM also said `Connection: close`. So wait out
    // one keep-alive timeout, and only then close what is still idle: a client
    // that ignored the hint.
    net.Server.prototype.close.call(server)
    const grace = Math.min(config.clientKeepAliveTimeoutMs, config.shutdownTimeoutMs)
    let finished = await Promise.race([closed, delay(grace).then(() => false)])
    if (!finished) {
      server.closeIdleConnections()
      finished = await Promise.race([closed, delay(config.shutdownTimeoutMs - grace).then(() => false)])
    }
    if (!finished) {
      logger.warn({ shutdownTimeoutMs: config.shutdownTimeoutMs }, 'shutdown timeout: closing remaining connections')
      server.closeAllConnections()
    }
    stopChecks()
    await pools.close()
    admin.close()
    admin.closeAllConnections()
    logger.info('stopped')
  }

  return {
    port,
    adminPort,
    metrics,
    health,
    budget,
    shutdown: () => (stopping ??= stop())
  }
}

/** Pod state changes become metrics and one log line each. */
function watchHealth (health: PodHealth, metrics: RouterMetrics, logger: Logger): void {
  health.onChange((pod, status, why) => {
    metrics.podState(pod, status.state)
    if (status.state === 'ejected') metrics.ejected(pod)
    const level = status.state === 'up' ? 'info' : 'warn'
    logger[level]({ pod, state: status.state, ejections: status.ejections, ejectedUntil: status.ejectedUntil || undefined },
      `gateway pod ${pod} is ${status.state}: ${why}`)
  })
}

function listen (server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function delay (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms).unref())
}
