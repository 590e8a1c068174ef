import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import { isStrategyName } from '../routing/strategies'
import type { StrategyName } from '../routing/strategy-names'
import { startGatewayOwnership, type GatewayOwnership, type TopologySource } from './gateway-ownership'
import { endpointSlicePeers, watchTopology } from './kube-sources'
import { inClusterApi } from './kube-watch'
import { ENTRIES_SCHEMA } from './guild-entries'
import { createMetricsServer, gatewayMetrics } from './gateway-metrics'
import { createPeerServer } from './peer-server'
import { dnsPeers, filePeers, type PeerDirectory } from './peers'
import { createReferenceGateway } from './reference-gateway'
import { SqliteGuildStore } from './sqlite-guild-store'

/**
 * `node dist/service/gateway/reference-gateway-main.js` with ORDINAL, PORT
 * (0 = any free port), HOST, and optionally:
 * - DATA_DIR: where guilds' SQLite files and the handoff journal live (the
 *   pod's volume); without it the entries API answers 501;
 * - TOPOLOGY_CONFIGMAP: the ConfigMap to follow through the API server (key
 *   TOPOLOGY_KEY, default topology.json), with PEERS_ENDPOINTSLICES (the peers
 *   Service, whose EndpointSlices list every gateway pod), PEER_PORT,
 *   TOPOLOGY_LIST_FRESHNESS_MS and TOPOLOGY_POLL_MS; needs the pod's service
 *   account token and a Role that lets it read both;
 * - or TOPOLOGY_FILE: the topology to follow (it may change while running), with
 *   PEERS_SERVICE (a DNS name listing every gateway pod) or PEERS_FILE (one
 *   peer-port base URL per line), PEER_PORT (the port peers and handoffs use;
 *   0 = any), TOPOLOGY_LIST_FRESHNESS_MS (the DNS cache TTL in front of
 *   PEERS_SERVICE) and TOPOLOGY_POLL_MS;
 * - or NUM_GATEWAY_PODS and ROUTING_STRATEGY: a topology fixed for the process's life;
 * - METRICS_PORT: serves the gateway's metrics (gateway-metrics.ts) on GET /metrics;
 * - WRITE_DELAY_MS: how long a write holds its guild before it commits;
 * - REQUEST_LOG / INTERVAL_LOG: files recording each request received / each guild request run.
 * Prints one JSON line with the ports once it listens.
 */
const env = process.env

function integer (name: string, fallback?: string): number {
  const text = env[name] ?? fallback
  const value = text === undefined || text.trim() === '' ? NaN : Number(text)
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`${name} must be an integer ≥ 0 (got ${JSON.stringify(env[name] ?? null)})\n`)
    process.exit(2)
  }
  return value
}

// No default: a pod without its index label must not quietly act as gateway-0.
const ordinal = integer('ORDINAL')
const port = integer('PORT', '0')
const strategyName: StrategyName = (() => {
  const name = env.ROUTING_STRATEGY ?? 'md5-mod'
  if (isStrategyName(name)) return name
  process.stderr.write(`unknown ROUTING_STRATEGY ${name}\n`)
  return process.exit(2)
})()
const log = (line: Record<string, unknown>): void => { process.stdout.write(`${JSON.stringify({ ...line, role: 'gateway', ordinal })}\n`) }

function peersFromEnv (): PeerDirectory {
  if (env.PEERS_SERVICE !== undefined) return dnsPeers(env.PEERS_SERVICE, integer('PEER_PORT'))
  if (env.PEERS_FILE !== undefined) return filePeers(env.PEERS_FILE)
  throw new Error('TOPOLOGY_FILE needs PEERS_SERVICE or PEERS_FILE')
}

const store = env.DATA_DIR === undefined ? undefined : new SqliteGuildStore(env.DATA_DIR, ENTRIES_SCHEMA)
const numPods = env.NUM_GATEWAY_PODS === undefined ? undefined : integer('NUM_GATEWAY_PODS')

/** Where the topology comes from: the API server, a file kubelet refreshes, or a count fixed for the process's life. */
async function topologySource (): Promise<{ source: TopologySource, peers?: PeerDirectory } | undefined> {
  if (env.TOPOLOGY_CONFIGMAP !== undefined) {
    if (env.PEERS_ENDPOINTSLICES === undefined) throw new Error('TOPOLOGY_CONFIGMAP needs PEERS_ENDPOINTSLICES (the peers Service name)')
    const api = inClusterApi(env)
    const warn = (message: string): void => { log({ msg: 'api watch failed; retrying', error: message }) }
    const topology = watchTopology(api, env.TOPOLOGY_CONFIGMAP, env.TOPOLOGY_KEY ?? 'topology.json', warn)
    await topology.first
    return { source: { latest: () => topology.latest(), name: topology.name }, peers: endpointSlicePeers(api, env.PEERS_ENDPOINTSLICES, integer('PEER_PORT'), warn) }
  }
  if (env.TOPOLOGY_FILE !== undefined) return { source: { file: env.TOPOLOGY_FILE }, peers: peersFromEnv() }
  if (store !== undefined) return { source: { topology: { strategy: strategyName, count: numPods ?? 1 } } }
  return undefined
}

async function main (): Promise<void> {
  const from = await topologySource()
  const ownership: GatewayOwnership | undefined = from === undefined
    ? undefined
    : startGatewayOwnership({
      ordinal,
      source: from.source,
      ...(from.peers !== undefined ? { peers: from.peers } : {}),
      ...(store !== undefined ? { storage: store, stateDir: env.DATA_DIR } : {}),
      listFreshnessMs: integer('TOPOLOGY_LIST_FRESHNESS_MS', '0'),
      pollMs: integer('TOPOLOGY_POLL_MS', '1000'),
      onChange: s => { log({ msg: 'topology', ...s }) },
      log
    })
  const server = createReferenceGateway({
    ordinal,
    numPods,
    strategy: strategyName,
    ownership,
    store,
    writeDelayMs: integer('WRITE_DELAY_MS', '0'),
    requestLog: env.REQUEST_LOG,
    intervalLog: env.INTERVAL_LOG
  })
  const peerServer = ownership === undefined ? undefined : createPeerServer(ownership)
  const metricsServer = ownership === undefined || env.METRICS_PORT === undefined ? undefined : createMetricsServer(gatewayMetrics(() => ownership.status()))
  const host = env.HOST ?? '127.0.0.1'
  server.listen(port, host)
  peerServer?.listen(integer('PEER_PORT', '0'), host)
  // Unref'd: scrapes never hold a stopping gateway.
  metricsServer?.listen(integer('METRICS_PORT'), host).unref()
  const extra = [peerServer, metricsServer].filter((s): s is Server => s !== undefined)
  void Promise.all([once(server, 'listening'), ...extra.map(async s => await once(s, 'listening'))]).then(() => {
    const peerPort = (peerServer?.address() as AddressInfo | undefined)?.port
    const metricsPort = (metricsServer?.address() as AddressInfo | undefined)?.port
    log({ msg: 'listening', port: (server.address() as AddressInfo).port, ...(peerPort === undefined ? {} : { peerPort }), ...(metricsPort === undefined ? {} : { metricsPort }) })
  })
  stopOnSignal(server, peerServer)
}

main().catch((err: Error) => {
  process.stderr.write(`gateway failed to start: ${err.message}\n`)
  process.exit(1)
})

/** SIGTERM and SIGINT: drain and exit (below). */
function stopOnSignal (server: Server, peerServer: Server | undefined): void {
  /** How long a stopping gateway waits for the requests it holds; well inside the pod's 30 s grace period. */
  const DRAIN_LIMIT_MS = 5_000
  let stopping = false
  /** Responses not yet finished: told at stop to close their connections. */
  const open = new Set<ServerResponse>()
  // Ahead of the handler, so a response written at once already knows.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (stopping) res.shouldKeepAlive = false
    open.add(res)
    res.once('close', () => open.delete(res))
  })

  const exit = (): never => {
    store?.close()
    process.exit(0)
  }

  /**
   * SIGTERM is how a pod is told to go (a scale-down, a rollout): stop
   * listening and finish what was received, closing each kept-alive connection
   * after its response. A busy connection never goes idle on its own, since
   * Node keeps serving on it after `close()`. Killing in-flight requests here
   * would turn an orderly scale-down into a crash, and the router must then
   * answer 502 for requests the gateway may have handled. Crashes are tested
   * with SIGKILL. The peer port stays open until the client port has drained,
   * so a handoff in flight can still be confirmed.
   */
  const stop = (): void => {
    stopping = true
    for (const res of open) res.shouldKeepAlive = false
    server.close(() => { peerServer?.close(); peerServer?.closeAllConnections(); exit() })
    server.closeIdleConnections()
    setTimeout(() => { server.closeAllConnections(); exit() }, DRAIN_LIMIT_MS).unref()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
