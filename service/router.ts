import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdminApp } from './admin/admin-app'
import type { RouterConfig } from './config'
import { createLogger, type Logger } from './logger'
import { createMetrics, type RouterMetrics } from './metrics'
import { GatewayPools } from './proxy/gateway-pools'
import { createProxyHandler, type ProxyHandler } from './proxy/proxy-handler'

export interface RunningRouter {
  readonly port: number
  readonly adminPort: number
  readonly metrics: RouterMetrics
  /** Drain and stop: readiness fails at once, serving continues for the drain delay. */
  shutdown (): Promise<void>
}

/**
 * The standalone router: the proxy straight on node:http (measured: Express in
 * front of it costs about a third of the throughput, see the README), and the
 * admin endpoints on an Express app on their own port.
 */
export async function startRouter (config: RouterConfig, logger: Logger = createLogger(config.logLevel)): Promise<RunningRouter> {
  const metrics = createMetrics(config.numGatewayPods)
  const pools = new GatewayPools(config)
  const proxy: ProxyHandler = createProxyHandler({ config, pools, metrics, logger })
  let draining = false

  const server = createServer({
    headersTimeout: config.clientHeadersTimeoutMs,
    requestTimeout: config.clientRequestTimeoutMs,
    keepAliveTimeout: config.clientKeepAliveTimeoutMs
  }, proxy)
  const admin = createServer(createAdminApp(config, metrics, { ready: () => !draining }))

  await Promise.all([listen(server, config.port, config.host), listen(admin, config.adminPort, config.host)])
  const port = (server.address() as AddressInfo).port
  const adminPort = (admin.address() as AddressInfo).port

  let stopping: Promise<void> | undefined
  async function stop (): Promise<void> {
    draining = true
    logger.info({ drainDelayMs: config.drainDelayMs }, 'draining: readiness now fails')
    // Endpoints and kube-proxy rules lag the readiness change; keep serving meanwhile.
    await delay(config.drainDelayMs)
    server.close()
    server.closeIdleConnections()
    const finished = await Promise.race([
      new Promise<boolean>(resolve => server.once('close', () => resolve(true))),
      delay(config.shutdownTimeoutMs).then(() => false)
    ])
    if (!finished) {
      logger.warn({ shutdownTimeoutMs: config.shutdownTimeoutMs }, 'shutdown timeout: closing remaining connections')
      server.closeAllConnections()
    }
    await pools.close()
    admin.close()
    admin.closeAllConnections()
    logger.info('stopped')
  }

  return {
    port,
    adminPort,
    metrics,
    shutdown: () => (stopping ??= stop())
  }
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
