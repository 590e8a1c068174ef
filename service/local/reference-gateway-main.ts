import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startGatewayOwnership, type GatewayOwnership } from '../ownership/gateway-ownership'
import { dnsPeers, filePeers, type PeerDirectory } from '../ownership/peers'
import { isStrategyName } from '../routing/strategies'
import { createReferenceGateway } from './reference-gateway'

/**
 * `node dist/service/local/reference-gateway-main.js` with ORDINAL, PORT
 * (0 = any free port), HOST, and optionally:
 * - TOPOLOGY_FILE: the topology to follow (it may change while running), with
 *   PEERS_SERVICE (a DNS name listing every gateway pod) or PEERS_FILE (one
 *   base URL per line) to ask before taking guilds over, TOPOLOGY_LIST_FRESHNESS_MS
 *   (the DNS cache TTL in front of PEERS_SERVICE) and TOPOLOGY_POLL_MS;
 * - or NUM_GATEWAY_PODS and ROUTING_STRATEGY: a topology fixed for the process's life;
 * - REQUEST_LOG / ACCEPT_LOG: files recording each request received / guild accepted.
 * Prints one JSON line with the port once it listens.
 */
const env = process.env
const ordinal = Number(env.ORDINAL ?? '0')
const port = Number(env.PORT ?? '0')
const numPods = env.NUM_GATEWAY_PODS === undefined ? undefined : Number(env.NUM_GATEWAY_PODS)
const strategyName = env.ROUTING_STRATEGY ?? 'md5-mod'
if (!Number.isInteger(ordinal) || ordinal < 0) throw new Error('ORDINAL must be an integer ≥ 0')
if (!isStrategyName(strategyName)) throw new Error(`unknown ROUTING_STRATEGY ${strategyName}`)

function peersFromEnv (): PeerDirectory {
  if (env.PEERS_SERVICE !== undefined) return dnsPeers(env.PEERS_SERVICE, Number(env.PEER_PORT ?? port))
  if (env.PEERS_FILE !== undefined) return filePeers(env.PEERS_FILE)
  throw new Error('TOPOLOGY_FILE needs PEERS_SERVICE or PEERS_FILE')
}

let ownership: GatewayOwnership | undefined
if (env.TOPOLOGY_FILE !== undefined) {
  ownership = startGatewayOwnership({
    ordinal,
    source: { file: env.TOPOLOGY_FILE },
    peers: peersFromEnv(),
    listFreshnessMs: Number(env.TOPOLOGY_LIST_FRESHNESS_MS ?? '0'),
    pollMs: Number(env.TOPOLOGY_POLL_MS ?? '1000'),
    onChange: s => { process.stdout.write(`${JSON.stringify({ msg: 'topology', role: 'gateway', ...s })}\n`) }
  })
}

const server = createReferenceGateway({
  ordinal, numPods, strategy: strategyName, ownership, requestLog: env.REQUEST_LOG, acceptLog: env.ACCEPT_LOG
})
server.listen(port, env.HOST ?? '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(`${JSON.stringify({ msg: 'listening', role: 'gateway', ordinal, port })}\n`)
})
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

/**
 * SIGTERM is how a pod is told to go (a scale-down, a rollout): stop
 * listening and finish what was received, closing each kept-alive connection
 * after its response. A busy connection never goes idle on its own, since
 * Node keeps serving on it after `close()`. Killing in-flight requests here
 * would turn an orderly scale-down into a crash, and the router must then
 * answer 502 for requests the gateway may have handled. Crashes are tested
 * with SIGKILL.
 */
const stop = (): void => {
  stopping = true
  for (const res of open) res.shouldKeepAlive = false
  server.close(() => process.exit(0))
  server.closeIdleConnections()
  setTimeout(() => { server.closeAllConnections(); process.exit(0) }, DRAIN_LIMIT_MS).unref()
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
