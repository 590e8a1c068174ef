import type { IncomingMessage } from 'node:http'
import type { RequestHead } from './request-head'

export interface UpstreamHeaderContext {
  readonly guildId: string | undefined
  readonly requestId: string
  readonly trustProxyHeaders: boolean
  /** The authority of an absolute-form target, which stands for Host. */
  readonly authority: string | undefined
}

/**
 * The header list the gateway receives, as a flat [name, value, …] list for
 * undici: the client's fields (`head.passOn`, extended in place: it is built
 * for this one request) plus what the router states itself.
 */
export function upstreamHeaders (req: IncomingMessage, head: RequestHead, ctx: UpstreamHeaderContext): string[] {
  const out = head.passOn

  // RFC 7239's de-facto predecessor: append this hop's peer to any chain sent.
  const peer = req.socket.remoteAddress ?? 'unknown'
  const chain = head.forwardedFor
  out.push('x-forwarded-for', chain === undefined || chain === '' ? peer : `${chain}, ${peer}`)

  // SECURITY: proto and host are client-controlled unless a trusted proxy set
  // them, so by default the router states what it saw itself.
  const proto = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http'
  out.push('x-forwarded-proto', ctx.trustProxyHeaders && head.forwardedProto !== undefined ? head.forwardedProto : proto)
  const host = ctx.trustProxyHeaders && head.forwardedHost !== undefined ? head.forwardedHost : ctx.authority ?? head.host
  if (host !== undefined) out.push('x-forwarded-host', host)

  out.push('x-request-id', ctx.requestId)
  if (ctx.guildId !== undefined) out.push('x-guild-id', ctx.guildId)
  return out
}
