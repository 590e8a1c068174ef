import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool, type Dispatcher } from 'undici'
import type { RouterConfig } from '../config'
import { createMetrics } from '../telemetry/metrics'
import { GatewayPools } from '../proxy/gateway-pools'
import { createProxyHandler } from '../proxy/proxy-handler'
import { createProxyServer } from './proxy-server'
import { seededSnowflakes } from '../routing/snowflakes'

export interface WarmUpResult {
  readonly requests: number
  readonly failed: number
  readonly ms: number
}

/** In flight at once: enough to exercise the pools' queueing, well below a core's worth of sockets. */
const CONCURRENCY = 16
const BODY_GUILD = JSON.stringify({ type: 2, guild_id: '0', data: { name: 'ping' } }).replace('"0"', '"{id}"')

/**
 * Runs the proxy's own code on loopback before the router takes traffic, so
 * the first real requests meet optimized code rather than V8's interpreter.
 * A fresh router otherwise serves its first seconds at a fraction of its
 * speed: the p99 of a 32-connection burst on a just-started router was
 * 70–140 ms, against 6 ms once warm (README: cold start).
 *
 * Everything here is a copy that shares only code with the real router: a
 * stand-in gateway on 127.0.0.1, a proxy server and pools of its own
 * pointed at it, metrics that nobody scrapes. No gateway sees a request and
 * no metric or pod state the router reports is touched. The mix follows
 * what a bot sends: guild ids by header, path and JSON body.
 */
export async function warmUp (config: RouterConfig, requests: number): Promise<WarmUpResult> {
  const started = performance.now()
  const gateway = await listening(createServer((req, res) => {
    req.resume()
    req.once('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' }).end('{}'))
  }))
  const standIn = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`
  const copy: RouterConfig = { ...config, gatewayUrls: config.gatewayUrls.map(() => standIn), gatewayUrlTemplate: undefined }
  const pools = new GatewayPools(copy)
  const proxy = createProxyHandler({ config: copy, pools, metrics: createMetrics(copy.numGatewayPods, { defaultMetrics: false }) })
  const server = await listening(createProxyServer(copy, proxy))
  const client = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: CONCURRENCY })
  const ids = seededSnowflakes(requests, 0x5EEDn)
  let failed = 0
  async function worker (): Promise<void> {
    for (let next = ids.next(); next.done !== true; next = ids.next()) {
      const { statusCode, body } = await client.request(requestFor(next.value))
      await body.dump()
      if (statusCode !== 200) failed++
    }
  }
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  } finally {
    await client.close()
    await pools.close()
    await Promise.all([closed(server), closed(gateway)])
  }
  return { requests, failed, ms: performance.now() - started }
}

/** Two in three by header, the rest by path or by a JSON interaction body, as bot traffic names guilds. */
function requestFor (id: string): Dispatcher.RequestOptions {
  switch (Number(BigInt(id) % 6n)) {
    case 0: return { method: 'GET', path: `/api/v10/guilds/${id}/members` }
    case 1: return { method: 'POST', path: '/interactions', headers: { 'content-type': 'application/json' }, body: BODY_GUILD.replace('{id}', id) }
    default: return { method: 'GET', path: '/interactions', headers: { 'x-guild-id': id } }
  }
}

function listening (server: Server): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

function closed (server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise(resolve => server.close(() => resolve()))
}
