import { InvalidPathError } from '../errors'

/**
 * Refused in the path (not the query): a dot-segment, an encoded dot, slash
 * or backslash, or a literal backslash. Gateways and frameworks differ on
 * whether and how they normalise these, so `/guilds/A/../B` or
 * `/guilds/A%2F..%2FB` may reach a handler as guild B after the router
 * routed by A. One regex, stopping at the query, keeps the check cheap.
 */
const AMBIGUOUS_PATH = /^[^?]*?(?:\/\.\.?(?=[/?]|$)|%2[ef]|%5c|\\)/i
const ABSOLUTE_FORM = /^https?:\/\/[^/?]*/i

/**
 * The origin-form target (path and query) the router routes by and forwards,
 * or `*` for asterisk-form. RFC 9112 §3.2.2: a server must accept
 * absolute-form and use its path and query; the gateway is sent origin-form,
 * which every server understands. Throws InvalidPathError for any other form
 * or a path whose meaning would change under normalisation.
 */
export function originForm (target: string): string {
  let path = target
  if (target.charCodeAt(0) !== 0x2f /* / */) {
    if (target === '*') return target
    const authority = ABSOLUTE_FORM.exec(target)
    if (authority === null) throw new InvalidPathError('must be a path starting with / (origin-form) or an http(s) URL')
    path = target.slice(authority[0].length)
    if (path.charCodeAt(0) !== 0x2f) path = `/${path}`
  }
  if (AMBIGUOUS_PATH.test(path)) {
    throw new InvalidPathError('has a dot-segment or an encoded dot, slash or backslash in its path, which gateways may normalise differently')
  }
  return path
}

/**
 * The authority (`host[:port]`) of an absolute-form target, or undefined for
 * any other form. RFC 9112 §3.2.2: a server that receives absolute-form uses
 * the target's host and ignores the Host field, so this is what the gateway
 * is told in `x-forwarded-host`.
 */
export function targetAuthority (target: string): string | undefined {
  // Stryker disable next-line ConditionalExpression: equivalent, an origin-form target never matches ABSOLUTE_FORM; the test spares the regex on every request
  if (target.charCodeAt(0) === 0x2f /* / */) return undefined
  const match = ABSOLUTE_FORM.exec(target)
  if (match === null) return undefined
  const authority = match[0].slice(match[0].indexOf('//') + 2)
  // userinfo@ is not part of the host (and is deprecated in http URLs).
  return authority.slice(authority.lastIndexOf('@') + 1)
}
