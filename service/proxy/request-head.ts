import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { extraConnectionNames, HOP_BY_HOP } from './hop-by-hop'

/**
 * What the router needs from a request's header block, read in one pass over
 * `rawHeaders`. It never touches `req.headers`: Node builds that object on
 * first use, and a proxy that forwards the raw list has no other use for it.
 * Repeated fields read as `req.headers` would give them: joined with ", ",
 * except Host and Content-Type, where the first one counts.
 */
export interface RequestHead {
  /** `x-guild-id`, as sent. */
  readonly guildHeader: string | undefined
  /** The client's `x-request-id` when usable, else a fresh one. */
  readonly requestId: string
  /** The declared body length: a number, 'chunked' for a streamed body, 0 for none. */
  readonly length: number | 'chunked'
  readonly contentType: string | undefined
  readonly host: string | undefined
  /** The client's own `x-forwarded-*` values, trusted only when configured to. */
  readonly forwardedFor: string | undefined
  readonly forwardedProto: string | undefined
  readonly forwardedHost: string | undefined
  /**
   * The fields to pass on, as a flat [name, value, …] list in the client's
   * order and spelling: everything but hop-by-hop fields (also those the
   * Connection header names) and the fields the router writes itself.
   */
  readonly passOn: string[]
}

const MAX_REQUEST_ID = 200

// What each field is to the router; a field not listed is passed on as it is.
const PASS = 0
const DROP = 1 // hop-by-hop, or written by the router for every request
const GUILD = 2
const REQUEST_ID = 3
const LENGTH = 4 // passed on too
const TYPE = 5 // passed on too
const HOST = 6
const FORWARDED_FOR = 7
const FORWARDED_PROTO = 8
const FORWARDED_HOST = 9
const TRANSFER_ENCODING = 10
const CONNECTION = 11

const ROLES: ReadonlyMap<string, number> = new Map([
  ...[...HOP_BY_HOP].map((name): [string, number] => [name, DROP]),
  ['x-gateway-failover', DROP],
  ['x-guild-id', GUILD],
  ['x-request-id', REQUEST_ID],
  ['content-length', LENGTH],
  ['content-type', TYPE],
  ['host', HOST],
  ['x-forwarded-for', FORWARDED_FOR],
  ['x-forwarded-proto', FORWARDED_PROTO],
  ['x-forwarded-host', FORWARDED_HOST],
  ['transfer-encoding', TRANSFER_ENCODING],
  ['connection', CONNECTION]
])

export function readRequestHead (req: IncomingMessage): RequestHead {
  const raw = req.rawHeaders
  const passOn: string[] = []
  let guildHeader: string | undefined
  let requestId: string | undefined
  let contentLength: string | undefined
  let chunked = false
  let contentType: string | undefined
  let host: string | undefined
  let forwardedFor: string | undefined
  let forwardedProto: string | undefined
  let forwardedHost: string | undefined
  let connection: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const value = raw[i + 1] as string
    const role = ROLES.get(name.toLowerCase()) ?? PASS
    if (role === PASS) {
      passOn.push(name, value)
      continue
    }
    switch (role) {
      case GUILD: guildHeader = joined(guildHeader, value); break
      case REQUEST_ID: requestId = joined(requestId, value); break
      case LENGTH: contentLength ??= value; passOn.push(name, value); break
      case TYPE: contentType ??= value; passOn.push(name, value); break
      case HOST: host ??= value; break
      case FORWARDED_FOR: forwardedFor = joined(forwardedFor, value); break
      case FORWARDED_PROTO: forwardedProto = joined(forwardedProto, value); break
      case FORWARDED_HOST: forwardedHost = joined(forwardedHost, value); break
      case TRANSFER_ENCODING: chunked = true; break
      case CONNECTION: connection = joined(connection, value); break
    }
  }
  return {
    guildHeader,
    requestId: requestId !== undefined && requestId.length > 0 && requestId.length <= MAX_REQUEST_ID ? requestId : randomUUID(),
    // Node has already refused malformed or conflicting lengths.
    length: contentLength !== undefined ? Number(contentLength) : chunked ? 'chunked' : 0,
    contentType,
    host,
    forwardedFor,
    forwardedProto,
    forwardedHost,
    passOn: connection === undefined ? passOn : withoutListed(passOn, connection)
  }
}

function joined (previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous}, ${value}`
}

/** RFC 9110 §7.6.1: names the Connection header lists are hop-by-hop too. Clients rarely list any but keep-alive. */
function withoutListed (fields: string[], connection: string): string[] {
  const listed = extraConnectionNames(connection)
  if (listed === undefined) return fields
  const kept: string[] = []
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string
    if (!listed.has(name.toLowerCase())) kept.push(name, fields[i + 1] as string)
  }
  return kept
}

/** Whether a body may carry a JSON `guild_id` worth reading into memory. */
export function mayCarryJsonGuild (head: RequestHead): boolean {
  return head.contentType !== undefined && head.contentType.includes('json') && head.length !== 0
}
