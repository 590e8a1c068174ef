import { describe, expect, it } from 'vitest'
import { PodHealth } from '../../../service/proxy/pod-health'
import { RetryBudget } from '../../../service/proxy/retry-budget'

function tracker () {
  let now = 1_000_000
  const health = new PodHealth(3, { consecutiveFailures: 3, baseMs: 1000, maxMs: 5000 }, () => now)
  const changes: string[] = []
  const whys: string[] = []
  health.onChange((pod, status, why) => { changes.push(`${pod}:${status.state}`); whys.push(why) })
  return { health, changes, whys, advance: (ms: number) => { now += ms } }
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

describe('PodHealth, the edges', () => {
  it('starts every pod up, with nothing counted', () => {
    const { health } = tracker()
    expect(health.status(1)).toEqual({ state: 'up', consecutiveFailures: 0, ejections: 0, ejectedUntil: 0, ejectedAt: 0 })
    expect(health.size).toBe(3)
    expect(() => health.admit(3)).toThrow('no gateway pod 3')
  })

  it('says why each state changed, and only when it changed', () => {
    const { health, advance, changes, whys } = tracker()
    health.succeeded(0) // up already: no change
    health.answering(0) // likewise
    for (let i = 0; i < 3; i++) health.failed(0, 'never-sent')
    advance(1000)
    expect(health.admit(0).kind).toBe('probe')
    health.failed(0, 'never-sent')
    advance(2000)
    expect(health.admit(0).kind).toBe('probe')
    health.succeeded(0)
    health.succeeded(0)
    for (let i = 0; i < 3; i++) health.failed(0, 'never-sent')
    health.answering(0)
    expect(changes).toEqual(['0:ejected', '0:half-open', '0:ejected', '0:half-open', '0:up', '0:ejected', '0:up'])
    expect(whys).toEqual([
      '3 consecutive connection failures; ejected for 1000 ms', 'ejection expired', 'probe failed; ejected for 2000 ms',
      'ejection expired', 'answered', '3 consecutive connection failures; ejected for 4000 ms', 'health check answered'
    ])
  })

  it('a pod that stays up longer than the longest ejection starts its ejections over; not a moment before', () => {
    const { health, advance } = tracker()
    const ejectAndRecover = (): number => {
      for (let i = 0; i < 3; i++) health.failed(1, 'never-sent')
      const length = (health.admit(1) as { retryAfterMs: number }).retryAfterMs
      advance(length)
      expect(health.admit(1).kind).toBe('probe')
      health.succeeded(1)
      return length
    }
    expect(ejectAndRecover()).toBe(1000)
    // Up again, then 5,000 ms (the cap) after the last ejection: still counted.
    advance(5000 - 1000)
    health.succeeded(1)
    expect(ejectAndRecover()).toBe(2000)
    // More than the cap after it: forgotten.
    advance(5001 - 2000)
    health.succeeded(1)
    expect(health.status(1).ejections).toBe(0)
    expect(ejectAndRecover()).toBe(1000)
  })

  it('failures of requests sent before an ejection neither extend it nor eject a half-open pod; only its probe does', () => {
    const { health, advance } = tracker()
    for (let i = 0; i < 3; i++) health.failed(2, 'never-sent')
    const until = health.status(2).ejectedUntil
    // Three stragglers, admitted before the ejection, fail while it lasts.
    for (let i = 0; i < 3; i++) health.failed(2, 'never-sent')
    expect(health.status(2)).toMatchObject({ state: 'ejected', ejectedUntil: until, ejections: 1 })
    advance(1000)
    expect(health.status(2).state).toBe('half-open')
    health.failed(2, 'never-sent') // a straggler, not the probe
    expect(health.status(2).state).toBe('half-open')
    expect(health.admit(2).kind).toBe('probe')
    health.failed(2, 'never-sent')
    expect(health.status(2)).toMatchObject({ state: 'ejected', ejections: 2 })
  })

  it('an up pod shows no ejection times, though it remembers how many it had', () => {
    const { health, advance } = tracker()
    for (let i = 0; i < 3; i++) health.failed(0, 'never-sent')
    expect(health.status(0)).toMatchObject({ ejectedUntil: 1_001_000, ejectedAt: 1_000_000 })
    advance(1000)
    health.admit(0)
    health.succeeded(0)
    expect(health.status(0)).toEqual({ state: 'up', consecutiveFailures: 0, ejections: 1, ejectedUntil: 0, ejectedAt: 0 })
  })

  it('reports the end of an ejection when it comes, with no request or reader to notice it', async () => {
    const health = new PodHealth(1, { consecutiveFailures: 1, baseMs: 30, maxMs: 30 })
    const changes: string[] = []
    health.onChange((_, status) => changes.push(status.state))
    health.failed(0, 'never-sent')
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(changes).toEqual(['ejected', 'half-open'])
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
    // Requests that end shrink the share again, to the minimum.
    for (let i = 0; i < 20; i++) budget.requestEnded()
    expect(budget.snapshot()).toMatchObject({ requestsInFlight: 0, limit: 3 })
  })
})
