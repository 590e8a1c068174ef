import type { Delivery } from './upstream-failure'

/**
 * When a failed attempt may be sent again, and after how long. Pure: the
 * forwarder supplies the facts, this decides.
 *
 * The rule that matters most: a request that may have reached the gateway is
 * sent again only if repeating it is harmless (an idempotent method, RFC 9110
 * §9.2.2) and its body can be replayed. A POST that may have arrived is never
 * sent twice — the gateway may already have written it.
 */
export interface RetrySettings {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
}

export interface AttemptFacts {
  readonly method: string
  /** Whether the body can be sent again byte-for-byte (buffered, or never read). */
  readonly bodyReplayable: boolean
  /** Attempts already made, the failed one included. */
  readonly attempts: number
  readonly remainingMs: number
  readonly delivery: Delivery
  /** From a gateway's `Retry-After` on a 503, in ms. */
  readonly retryAfterMs?: number
}

export type RetryDecision =
  | { readonly retry: true, readonly delayMs: number, readonly reason: string }
  | { readonly retry: false, readonly reason: string }

/**
 * A gateway's answers that mean it did not handle the request as asked and
 * another try may do better: its own proxy and overload errors (RFC 9110
 * §15.6). They are still "maybe received", so the rules above apply.
 */
export function isRetryableStatus (status: number): boolean {
  return status === 502 || status === 503 || status === 504
}

/**
 * The failover walk (FAILOVER=next, stateless gateways only): candidate 0 is
 * the owner, candidate k the pod k ordinals after it. The candidate after
 * `candidate`, or undefined when failover is off or every pod has been tried.
 */
export function nextCandidate (failover: 'none' | 'next', candidate: number, numPods: number): number | undefined {
  return failover === 'next' && candidate + 1 < numPods ? candidate + 1 : undefined
}

/** The pod candidate `candidate` of the walk names. */
export function candidatePod (owner: number, candidate: number, numPods: number): number {
  return (owner + candidate) % numPods
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

export function isIdempotent (method: string): boolean {
  return IDEMPOTENT.has(method.toUpperCase())
}

export function decideRetry (facts: AttemptFacts, settings: RetrySettings, random: () => number = Math.random): RetryDecision {
  if (facts.attempts >= settings.maxAttempts) return { retry: false, reason: `no attempts left (${settings.maxAttempts})` }
  if (facts.delivery === 'maybe-received') {
    if (!isIdempotent(facts.method)) return { retry: false, reason: `${facts.method} may have reached the gateway; not repeated` }
    if (!facts.bodyReplayable) return { retry: false, reason: 'body already streamed; cannot be replayed' }
  } else if (!facts.bodyReplayable) {
    return { retry: false, reason: 'body already streamed; cannot be replayed' }
  }
  const delayMs = facts.retryAfterMs ?? backoffMs(facts.attempts, settings, random)
  if (delayMs >= facts.remainingMs) {
    return { retry: false, reason: facts.retryAfterMs === undefined ? 'deadline too close' : 'Retry-After is past the deadline' }
  }
  return { retry: true, delayMs, reason: facts.delivery }
}

/**
 * Exponential backoff with full jitter: uniform in [0, min(max, base·2^(n-1))].
 * Jitter spreads the retries of many routers that saw the same pod fail.
 */
export function backoffMs (attempts: number, settings: Pick<RetrySettings, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.max(0, attempts - 1))
  return Math.floor(random() * ceiling)
}

/** `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms from `now`. */
export function parseRetryAfter (value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  // Stryker disable next-line ConditionalExpression: equivalent, the next line reads undefined the same way; a shortcut only
  if (value === undefined) return undefined
  const text = (Array.isArray(value) ? value[0] : value)?.trim()
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent, '' is neither digits nor a date
  if (text === undefined || text === '') return undefined
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
