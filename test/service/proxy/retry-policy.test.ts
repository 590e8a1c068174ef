import { describe, expect, it } from 'vitest'
import { backoffMs, candidatePod, decideRetry, isIdempotent, isRetryableStatus, nextCandidate, parseRetryAfter, type AttemptFacts } from '../../../service/proxy/retry-policy'

const settings = { maxAttempts: 3, baseDelayMs: 25, maxDelayMs: 250 }
const facts = (over: Partial<AttemptFacts>): AttemptFacts => ({
  method: 'GET', bodyReplayable: true, attempts: 1, remainingMs: 2000, delivery: 'never-sent', ...over
})
const half = (): number => 0.5

describe('decideRetry', () => {
  it.each([
    // [facts, retry?, reason fragment]
    [{ method: 'POST', delivery: 'never-sent' }, true, 'never-sent'],
    [{ method: 'PATCH', delivery: 'never-sent' }, true, 'never-sent'],
    [{ method: 'GET', delivery: 'maybe-received' }, true, 'maybe-received'],
    [{ method: 'PUT', delivery: 'maybe-received' }, true, 'maybe-received'],
    [{ method: 'DELETE', delivery: 'maybe-received' }, true, 'maybe-received'],
    [{ method: 'POST', delivery: 'maybe-received' }, false, 'POST may have reached the gateway'],
    [{ method: 'PATCH', delivery: 'maybe-received' }, false, 'PATCH may have reached the gateway'],
    [{ method: 'PUT', delivery: 'maybe-received', bodyReplayable: false }, false, 'cannot be replayed'],
    [{ method: 'POST', delivery: 'never-sent', bodyReplayable: false }, false, 'cannot be replayed'],
    [{ attempts: 3 }, false, 'no attempts left'],
    [{ remainingMs: 5 }, false, 'deadline too close'],
    // A retry that would start exactly at the deadline has no time left to run.
    [{ delivery: 'maybe-received', retryAfterMs: 2000 }, false, 'Retry-After is past the deadline'],
    [{ delivery: 'maybe-received', retryAfterMs: 1000 }, true, 'maybe-received'],
    [{ delivery: 'maybe-received', retryAfterMs: 3000 }, false, 'Retry-After is past the deadline'],
    [{ method: 'POST', delivery: 'maybe-received', retryAfterMs: 100 }, false, 'POST may have reached']
  ] as const)('%j → retry %s', (over, retry, reason) => {
    const decision = decideRetry(facts(over as Partial<AttemptFacts>), settings, half)
    expect(decision.retry).toBe(retry)
    expect(decision.reason).toContain(reason)
  })

  it('waits exactly Retry-After when the gateway gave one', () => {
    expect(decideRetry(facts({ delivery: 'maybe-received', retryAfterMs: 1000 }), settings, half)).toEqual({ retry: true, delayMs: 1000, reason: 'maybe-received' })
  })
})

describe('backoffMs', () => {
  it('is full jitter under an exponential ceiling capped at the maximum', () => {
    expect(backoffMs(1, settings, () => 0.999)).toBe(24)
    expect(backoffMs(2, settings, () => 0.999)).toBe(49)
    expect(backoffMs(3, settings, () => 0.999)).toBe(99)
    expect(backoffMs(10, settings, () => 0.999)).toBe(249)
    expect(backoffMs(10, settings, () => 0)).toBe(0)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-24T10:00:00Z')
  it.each([
    ['3', 3000], ['0', 0], [' 2 ', 2000], ['Tue, 24 Nov 2026 10:00:05 GMT', 5000], ['Tue, 24 Nov 2026 09:00:00 GMT', 0],
    ['soon', undefined], ['', undefined], [undefined, undefined], [['1', '9'], 1000],
    // Delay-seconds is digits only, several of them, nothing around them.
    ['120', 120_000], ['12 s', undefined], ['abc12', undefined]
  ] as const)('%j → %s ms', (value, ms) => {
    expect(parseRetryAfter(value as string | string[] | undefined, now)).toBe(ms)
  })
})

describe('isIdempotent', () => {
  it.each([['GET', true], ['head', true], ['OPTIONS', true], ['PUT', true], ['DELETE', true], ['TRACE', true], ['POST', false], ['PATCH', false], ['CONNECT', false], ['', false]] as const)(
    '%s → %s', (method, expected) => { expect(isIdempotent(method)).toBe(expected) })
})

describe('isRetryableStatus', () => {
  it('is true for 502, 503 and 504 only', () => {
    const retryable = [200, 201, 400, 404, 421, 429, 500, 501, 502, 503, 504, 505].filter(isRetryableStatus)
    expect(retryable).toEqual([502, 503, 504])
  })
})

describe('the failover walk', () => {
  it('with FAILOVER=none never leaves the owner', () => {
    expect(nextCandidate('none', 0, 3)).toBeUndefined()
  })

  it('with FAILOVER=next visits each pod once, starting after the owner and wrapping', () => {
    const walk: number[] = []
    for (let c: number | undefined = 0; c !== undefined; c = nextCandidate('next', c, 4)) walk.push(candidatePod(2, c, 4))
    expect(walk).toEqual([2, 3, 0, 1])
  })

  it('with one pod has nowhere to go', () => {
    expect(nextCandidate('next', 0, 1)).toBeUndefined()
  })
})
