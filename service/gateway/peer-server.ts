import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { isGuildId } from '../routing/guild-id'
import type { GatewayOwnership } from './gateway-ownership'
import { PEER_PATHS } from './handoff-wire'

/**
 * The gateway's peer port: what other gateways (and, from inside the pod,
 * the operator) may ask. Routers never dial it, and the NetworkPolicy admits
 * only gateway pods to it.
 * - GET /topology: what this pod holds (the peer rounds read it);
 * - PUT /handoff/guilds/<id>: a guild's data arriving from its previous owner;
 * - POST /operator/guilds/<id>/start-empty: the operator's command for a guild
 *   whose data was lost with a volume. SECURITY: from loopback only, so it
 *   takes `kubectl exec` into the pod, never a request from the network.
 */
export function createPeerServer (ownership: GatewayOwnership): Server {
  return createServer((req, res) => {
    void route(ownership, req, res).catch(err => {
      if (!res.headersSent) reply(res, 500, { error: 'internal', message: (err as Error).message })
      else res.destroy()
    })
  })
}

async function route (ownership: GatewayOwnership, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0]!
  if (path === PEER_PATHS.topology && req.method === 'GET') {
    reply(res, 200, ownership.status())
    return
  }
  if (path.startsWith(PEER_PATHS.handoff) && ownership.receiver !== undefined) {
    const guildId = path.slice(PEER_PATHS.handoff.length)
    if (req.method !== 'PUT') return drainAnd(req, () => { reply(res, 405, { error: 'method_not_allowed', message: 'a handoff is a PUT' }) })
    if (!isGuildId(guildId)) return drainAnd(req, () => { reply(res, 400, { error: 'invalid_guild_id', message: `${JSON.stringify(guildId)} is not a guild id` }) })
    const answer = await ownership.receiver.receive(guildId, req)
    reply(res, answer.status, answer.body)
    return
  }
  const operator = /^\/operator\/guilds\/([^/]+)\/start-empty$/.exec(path)
  if (operator !== null) {
    const guildId = operator[1]!
    const remote = req.socket.remoteAddress ?? ''
    if (!(remote === '127.0.0.1' || remote === '::1' || remote === '::ffff:127.0.0.1')) {
      return drainAnd(req, () => { reply(res, 403, { error: 'operator_local_only', message: 'operator commands are accepted from inside the pod only (kubectl exec)' }) })
    }
    if (req.method !== 'POST') return drainAnd(req, () => { reply(res, 405, { error: 'method_not_allowed', message: 'start-empty is a POST' }) })
    if (!isGuildId(guildId)) return drainAnd(req, () => { reply(res, 400, { error: 'invalid_guild_id', message: `${JSON.stringify(guildId)} is not a guild id` }) })
    const result = ownership.startEmpty(guildId)
    drainAnd(req, () => { reply(res, result.ok ? 200 : 409, result.ok ? { status: 'started_empty', guildId } : { error: result.code, message: result.message }) })
    return
  }
  drainAnd(req, () => { reply(res, 404, { error: 'not_found', message: `no peer endpoint ${req.method ?? ''} ${path}` }) })
}

function drainAnd (req: IncomingMessage, then: () => void): void {
  req.resume()
  if (req.complete) then()
  else req.once('end', then)
}

export function reply (res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
