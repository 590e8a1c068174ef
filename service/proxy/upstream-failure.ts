import {
  BadGatewayError,
  GatewayTimeoutError,
  GatewayUnavailableError,
  type RouterError
} from '../errors'

/**
 * Whether the gateway may have seen the request. This decides what is safe to
 * do next: a request that never left the router can be sent again whatever
 * its method; one that may have arrived must not be, unless it is idempotent.
 */
export type Delivery = 'never-sent' | 'maybe-received'

export interface UpstreamFailure {
  readonly delivery: Delivery
  readonly error: RouterError
}

interface Row { delivery: Delivery, make: (pod: number, cause: unknown) => RouterError }

const unavailable = (what: string): Row => ({
  delivery: 'never-sent',
  make: (pod, cause) => new GatewayUnavailableError(pod, what, { cause })
})
const maybe = (what: string, status: 502 | 504): Row => ({
  delivery: 'maybe-received',
  make: (pod, cause) => status === 504
    ? new GatewayTimeoutError(pod, what, { cause })
    : new BadGatewayError(pod, what, { cause })
})

/**
 * One table from low-level error codes (Node's socket and DNS errors, undici's
 * `UND_ERR_*`) to what the client is told. Anything unknown is treated as
 * "maybe received": the cautious answer for retries.
 */
const TABLE: Readonly<Record<string, Row>> = {
  ECONNREFUSED: unavailable('connection refused (pod not listening)'),
  ENOTFOUND: unavailable('host does not resolve (pod not ready or not scheduled)'),
  EAI_AGAIN: unavailable('DNS lookup failed temporarily'),
  EAI_NODATA: unavailable('host does not resolve (pod not ready or not scheduled)'),
  EAI_NONAME: unavailable('host does not resolve (pod not ready or not scheduled)'),
  EHOSTUNREACH: unavailable('host unreachable'),
  ENETUNREACH: unavailable('network unreachable'),
  EADDRNOTAVAIL: unavailable('address not available'),
  UND_ERR_CONNECT_TIMEOUT: unavailable('connect timeout'),
  UND_ERR_HEADERS_TIMEOUT: maybe('no response headers before the deadline', 504),
  UND_ERR_BODY_TIMEOUT: maybe('response body stalled', 504),
  UND_ERR_SOCKET: maybe('connection closed before the response completed', 502),
  ECONNRESET: maybe('connection reset', 502),
  EPIPE: maybe('connection closed while sending the request', 502),
  UND_ERR_CLOSED: maybe('connection closed', 502),
  HPE_INVALID_CONSTANT: maybe('invalid HTTP response', 502),
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: maybe('response shorter or longer than its content-length', 502)
}

const FALLBACK = maybe('invalid or interrupted response', 502)

export function classifyUpstreamError (err: unknown, pod: number): UpstreamFailure {
  // Stryker disable next-line StringLiteral: equivalent, any key that is not a code finds no row
  const row = TABLE[errorCode(err) ?? ''] ?? FALLBACK
  return { delivery: row.delivery, error: row.make(pod, err) }
}

/**
 * The most specific code: undici and `net` sometimes wrap the socket error
 * (`cause`, or an AggregateError when both address families were tried).
 */
export function errorCode (err: unknown): string | undefined {
  let current: unknown = err
  // Stryker disable next-line ConditionalExpression: equivalent for the typeof test, a primitive has no code, errors or cause to follow
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const e = current as { code?: unknown, errors?: unknown[], cause?: unknown }
    // A known code wins; a generic one (undici's UND_ERR, anything new) sends the search on to the cause.
    // Stryker disable next-line ConditionalExpression: equivalent for the typeof test, a missing code finds no row either
    if (typeof e.code === 'string' && Object.hasOwn(TABLE, e.code)) return e.code
    if (Array.isArray(e.errors) && e.errors.length > 0) current = e.errors[0]
    else if (e.cause !== undefined) current = e.cause
    else return typeof e.code === 'string' ? e.code : undefined
  }
  return undefined
}
