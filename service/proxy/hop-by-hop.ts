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
 * The names a Connection header lists that are not hop-by-hop already, or
 * undefined when there are none: nearly every message says only `keep-alive`
 * or `close`, and those need no Set.
 */
export function extraConnectionNames (value: string | string[] | undefined): ReadonlySet<string> | undefined {
  if (typeof value === 'string' && !value.includes(',')) {
    const token = value.trim().toLowerCase()
    if (token === 'close' || token === '' || HOP_BY_HOP.has(token)) return undefined
  }
  const listed = connectionListed(value)
  if (listed === undefined) return undefined
  for (const name of listed) {
    if (name !== 'close' && !HOP_BY_HOP.has(name)) return listed
  }
  return undefined
}

/**
 * `headers` without hop-by-hop fields and without the names in `replaced`
 * (fields the router sets itself), as a flat [name, value, …] list for
 * `res.writeHead`, for the response going back to the client. Values keep
 * their arrays (set-cookie).
 */
export function endToEndHeaders (headers: Record<string, string | string[] | undefined>,
  replaced?: ReadonlySet<string>): Array<string | string[]> {
  const listed = extraConnectionNames(headers.connection)
  const out: Array<string | string[]> = []
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (listed !== undefined && listed.has(name)) || (replaced !== undefined && replaced.has(name))) continue
    const value = headers[name]
    if (value !== undefined) out.push(name, value)
  }
  return out
}
