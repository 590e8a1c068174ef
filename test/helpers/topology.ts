import { once } from 'node:events'
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startNode, type NodeProcess } from '../../dev/processes'

/** Processes and servers a suite started, stopped in its afterAll/afterEach. */
export class Cleanup {
  readonly #tasks: Array<() => Promise<unknown>> = []
  add (task: () => Promise<unknown>): void { this.#tasks.push(task) }
  async run (): Promise<void> {
    await Promise.allSettled(this.#tasks.splice(0).reverse().map(t => t()))
  }
}

export interface Gateways { readonly urls: string[], readonly procs: NodeProcess[] }

/** One reference gateway process; `env` may fix PORT (a restart) or set REQUEST_LOG. */
export function startGateway (cleanup: Cleanup, ordinal: number, env: Record<string, string> = {}): NodeProcess {
  const proc = startNode('gateway/reference-gateway-main.js', { ORDINAL: String(ordinal), PORT: '0', ...env })
  cleanup.add(() => proc.stop('SIGKILL'))
  return proc
}

/** N reference gateway processes; with a strategy they refuse guilds they do not own. */
export async function startGateways (cleanup: Cleanup, n: number, strategy?: string,
  envFor: (ordinal: number) => Record<string, string> = () => ({})): Promise<Gateways> {
  const procs = Array.from({ length: n }, (_, ordinal) => startNode('gateway/reference-gateway-main.js', {
    ORDINAL: String(ordinal),
    PORT: '0',
    ...(strategy === undefined ? {} : { NUM_GATEWAY_PODS: String(n), ROUTING_STRATEGY: strategy }),
    ...envFor(ordinal)
  }))
  for (const p of procs) cleanup.add(() => p.stop())
  const ports = await Promise.all(procs.map(p => p.listening))
  return { urls: ports.map(p => `http://127.0.0.1:${p.port}`), procs }
}

export interface RouterProcess { readonly base: string, readonly admin: string, readonly proc: NodeProcess }

/**
 * A router process on loopback ports. Without the start-up warm-up unless
 * `env` asks for it: suites start dozens of routers, and warm-up.e2e.test.ts
 * tests the warm-up itself.
 */
export async function startRouterProcess (cleanup: Cleanup, env: Record<string, string>): Promise<RouterProcess> {
  const proc = startNode('main.js', { HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: '0', DRAIN_DELAY_MS: '0', WARM_UP_REQUESTS: '0', ...env })
  cleanup.add(() => proc.stop('SIGKILL'))
  const { port, adminPort } = await proc.listening
  return { base: `http://127.0.0.1:${port}`, admin: `http://127.0.0.1:${adminPort}`, proc }
}

/** An in-test HTTP server on 127.0.0.1 that scripts a gateway's behaviour. */
export async function scriptedGateway (cleanup: Cleanup, handler: RequestListener): Promise<{ url: string, server: Server }> {
  const server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  cleanup.add(async () => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

/** A port nothing listens on: bound, read, then released. */
export async function closedPortUrl (): Promise<string> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return `http://127.0.0.1:${port}`
}
