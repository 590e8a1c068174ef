import { describe, expect, it } from 'vitest'
import { PodHealth } from '../../../service/proxy/pod-health'
import { RetryBudget } from '../../../service/proxy/retry-budget'

function tracker () {
  let now = 1_000_000
  const health = new PodHealth(3, { consecutiveFailures: 3, baseMs: 1000, maxMs: 5000 }, () => now)
  const changes: string[] = []
  health.onChange((pod, status) => changes.push(`${pod}:${status.state}`))
  return { health, changes, advance: (ms: number) => { now += ms } }
}

describe('PodHealth', () => {
  it('ejects after consecutive never-sent failures only', () => {
    const { health, changes } = tracker()
    health.failed(1, 'never-sent')
    health.failed(1, 'maybe-received') // a reset proves the pod was reachable: not counted
    health.failed(1, 'never-sent')
    expect(health.admit(1)).toEqual({ kind: 'send' })
    health.failed(1, 'never-sent')
    expect(changes).toEqual(['1:ejected'])
    expect(health.admit(1)).toEqual({ kind: 'reject', retryAfterMs: 1000 })
    expect(health.admit(0)).toEqual({ kind: 'send' }) // other pods are unaffected
  })

  it('a success resets the count', () => {
    const { health } = tracker()
    health.failed(0, 'never-sent'); health.failed(0, 'never-sent')
    health.succeeded(0)
    health.failed(0, 'never-sent'); health.failed(0, 'never-sent')
    expect(health.status(0).state).toBe('up')
  })

  it('an ejection whose time has passed reads as half-open with no request since, and says so once', () => {
    const { health, advance, changes } = tracker()
    for (let i = 0; i < 3; i++) health.failed(2, 'never-sent')
    advance(999)
    expect(health.status(2).state).toBe('ejected')
    advance(1)
    expect(health.status(2)).toMatchObject({ state: 'half-open', ejectedUntil: 1_001_000 })
    expect(health.status(2).state).toBe('half-open')
    expect(changes).toEqual(['2:ejected', '2:half-open'])
    expect(health.admit(2)).toEqual({ kind: 'probe' })
  })

  it('after the ejection, lets one probe through at a time (half-open)', () => {
    const { health, advance, changes } = tracker()
    for (let i = 0; i < 3; i++) health.failed(2, 'never-sent')
    advance(1000)
    expect(health.admit(2)).toEqual({ kind: 'probe' })
    expect(health.admit(2).kind).toBe('reject')
    health.succeeded(2)
    expect(health.admit(2)).toEqual({ kind: 'send' })
    expect(changes).toEqual(['2:ejected', '2:half-open', '2:up'])
  })

  it('a failed probe ejects again for twice as long, up to the cap', () => {
    const { health, advance } = tracker()
    for (let i = 0; i < 3; i++) health.failed(0, 'never-sent')
    const lengths: number[] = []
    for (let round = 0; round < 5; round++) {
      const admission = health.admit(0)
      expect(admission.kind).toBe('reject')
      lengths.push((admission as { retryAfterMs: number }).retryAfterMs)
      advance(lengths[round]!)
      expect(health.admit(0).kind).toBe('probe')
      health.failed(0, 'never-sent')
    }
    expect(lengths).toEqual([1000, 2000, 4000, 5000, 5000])
  })

  it('an active check answer brings an ejected pod back at once', () => {
    const { health } = tracker()
    for (let i = 0; i < 3; i++) health.failed(0, 'never-sent')
    health.answering(0)
    expect(health.admit(0)).toEqual({ kind: 'send' })
  })
})

describe('RetryBudget', () => {
  it('allows at least the minimum, then a share of requests in flight', () => {
    const budget = new RetryBudget(20, 3)
    for (let i = 0; i < 10; i++) budget.requestStarted()
    expect([budget.tryAcquire(), budget.tryAcquire(), budget.tryAcquire(), budget.tryAcquire()]).toEqual([true, true, true, false])
    for (let i = 0; i < 10; i++) budget.requestStarted() // 20 in flight → 4 retries
    expect(budget.tryAcquire()).toBe(true)
    expect(budget.tryAcquire()).toBe(false)
    budget.release()
    expect(budget.tryAcquire()).toBe(true)
    expect(budget.snapshot()).toMatchObject({ requestsInFlight: 20, retriesInFlight: 4, limit: 4, exhausted: 2 })
  })
})
