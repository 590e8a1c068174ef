import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { connectionListed, HOP_BY_HOP } from './hop-by-hop'

/** Headers the router writes itself; a client's copy is replaced, not passed on. */
const OWNED = new Set([
  'host',
  'x-guild-id',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-gateway-failover'
])

const MAX_REQUEST_ID = 200

/** The client's `x-request-id` when it is usable, else a fresh one. */
export function requestIdOf (req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  if (typeof given === 'string' && given.length > 0 && given.length <= MAX_REQUEST_ID) return given
  return randomUUID()
}

export interface UpstreamHeaderContext {
  readonly guildId: string | undefined
  readonly requestId: string
  readonly trustProxyHeaders: boolean
}

/**
 * The request's headers as a flat [name, value, …] list for undici, in the
 * client's order and spelling, less hop-by-hop fields, plus what the router
 * adds. Built from `rawHeaders` so repeated headers reach the gateway as sent.
 */
export function upstreamHeaders (req: IncomingMessage, ctx: UpstreamHeaderContext): string[] {
  const raw = req.rawHeaders
  const listed = connectionListed(req.headers.connection)
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower) || OWNED.has(lower) || (listed !== undefined && listed.has(lower))) continue
    out.push(name, raw[i + 1] as string)
  }

  // RFC 7239's de-facto predecessor: append this hop's peer to any chain sent.
  const peer = req.socket.remoteAddress ?? 'unknown'
  const chain = req.headers['x-forwarded-for']
  out.push('x-forwarded-for', chain === undefined || chain === '' ? peer : `${String(chain)}, ${peer}`)

  // SECURITY: proto and host are client-controlled unless a trusted proxy set
  // them, so by default the router states what it saw itself.
  const proto = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http'
  const sentProto = req.headers['x-forwarded-proto']
  const sentHost = req.headers['x-forwarded-host']
  out.push('x-forwarded-proto', ctx.trustProxyHeaders && typeof sentProto === 'string' ? sentProto : proto)
  const host = ctx.trustProxyHeaders && typeof sentHost === 'string' ? sentHost : req.headers.host
  if (host !== undefined) out.push('x-forwarded-host', host)

  out.push('x-request-id', ctx.requestId)
  if (ctx.guildId !== undefined) out.push('x-guild-id', ctx.guildId)
  return out
}
