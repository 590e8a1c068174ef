import type { IncomingHttpHeaders } from 'node:http'

/**
 * Hop-by-hop headers describe one connection, not the message, and must not
 * be forwarded (RFC 9110 §7.6.1), nor may any header the `Connection` header
 * names. `proxy-connection` and `keep-alive` are legacy spellings still sent
 * by clients; `expect` is answered by this server, not the gateway.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect'
])

/** Lower-cased names listed in a `Connection` header value. */
export function connectionListed (value: string | string[] | undefined): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined
  const names = new Set<string>()
  for (const part of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const name = part.trim().toLowerCase()
    if (name !== '') names.add(name)
  }
  return names.size === 0 ? undefined : names
}

/**
 * Copies `headers` without hop-by-hop fields, for the response going back to
 * the client. Values keep their arrays (set-cookie).
 */
export function endToEndHeaders (headers: Record<string, string | string[] | undefined>): IncomingHttpHeaders {
  const listed = connectionListed(headers.connection)
  const out: IncomingHttpHeaders = {}
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (listed !== undefined && listed.has(name))) continue
    const value = headers[name]
    if (value !== undefined) out[name] = value
  }
  return out
}
