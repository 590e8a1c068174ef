import { describe, expect, it } from 'vitest'
import { decideRefusal, ownerAfterScaleDown, waitForOwner, type RefusalFacts } from '../../../service/proxy/refusal-policy'

const base: RefusalFacts = {
  refusal: 'not_owner',
  owner: '3',
  pod: 1,
  bodyReplayable: true,
  redirected: false,
  reachable: n => n < 5,
  remainingMs: 2_000,
  pendingRetryMs: 200
}

describe('decideRefusal', () => {
  it('follows a not_owner to the ordinal it names, once', () => {
    expect(decideRefusal(base)).toEqual({ act: 'redirect', pod: 3 })
    expect(decideRefusal({ ...base, owner: '12', reachable: n => n < 20 })).toEqual({ act: 'redirect', pod: 12 })
    expect(decideRefusal({ ...base, owner: '1234567', reachable: () => true })).toEqual({ act: 'pass', reason: 'not_owner without an owner ordinal' })
    expect(decideRefusal({ ...base, redirected: true })).toEqual({ act: 'pass', reason: 'already followed one not_owner' })
  })

  it.each([
    ['no owner header', { owner: undefined }, 'not_owner without an owner ordinal'],
    ['an owner that is not an ordinal', { owner: '-1' }, 'not_owner without an owner ordinal'],
    ['an owner with a suffix', { owner: '3x' }, 'not_owner without an owner ordinal'],
    ['itself', { owner: '1' }, 'not_owner naming itself'],
    ['an ordinal the router cannot dial', { owner: '7' }, 'owner 7 has no address here'],
    ['a streamed body', { bodyReplayable: false }, 'body already streamed; cannot be replayed']
  ] as const)('passes a not_owner naming %s to the client', (_what, facts, reason) => {
    expect(decideRefusal({ ...base, ...facts })).toEqual({ act: 'pass', reason })
  })

  it('waits for a pending owner while the attempt after the wait keeps 500 ms (or the wait, if longer), and passes it on after', () => {
    const pending = { ...base, refusal: 'ownership_pending', owner: undefined }
    expect(decideRefusal({ ...pending, remainingMs: 700 })).toEqual({ act: 'wait', delayMs: 200 })
    expect(decideRefusal({ ...pending, remainingMs: 699 })).toEqual({ act: 'pass', reason: 'deadline too close to wait for the guild' })
    expect(decideRefusal({ ...pending, pendingRetryMs: 800, remainingMs: 1600 })).toEqual({ act: 'wait', delayMs: 800 })
    expect(decideRefusal({ ...pending, pendingRetryMs: 800, remainingMs: 1599 })).toEqual({ act: 'pass', reason: 'deadline too close to wait for the guild' })
    expect(decideRefusal({ ...pending, bodyReplayable: false })).toEqual({ act: 'pass', reason: 'body already streamed; cannot be replayed' })
    // Waiting after a redirect is fine: the request is at the real owner now.
    expect(decideRefusal({ ...pending, redirected: true })).toEqual({ act: 'wait', delayMs: 200 })
  })

  it('leaves any other 421 to the client', () => {
    expect(decideRefusal({ ...base, refusal: undefined })).toEqual({ act: 'pass', reason: 'not a refusal this router acts on' })
    expect(decideRefusal({ ...base, refusal: 'misdirected' })).toEqual({ act: 'pass', reason: 'not a refusal this router acts on' })
  })
})

describe('ownerAfterScaleDown', () => {
  const pick = (id: string, n: number): number => Number(id) % n
  const facts = { pod: 3, numPods: 4, heardCount: 3, guildId: '7', pick, reachable: (n: number) => n < 4, bodyReplayable: true, redirected: false }

  it('sends a guild of a pod past the gateways\' count to its owner under that count', () => {
    expect(ownerAfterScaleDown(facts)).toBe(1) // 7 % 3
  })

  it.each([
    ['nothing heard', { heardCount: undefined }],
    ['the gateways count as many pods as the router', { heardCount: 4 }],
    ['the gateways count more (a scale-up: this router is the new one)', { heardCount: 5 }],
    ['a pod the gateways still count (down, not removed)', { pod: 2 }],
    ['no guild (an unrouted request)', { guildId: undefined }],
    ['already redirected once', { redirected: true }],
    ['a body that cannot be replayed', { bodyReplayable: false }],
    ['an owner this router cannot dial', { reachable: () => false }],
    // A pod past the router's count (a new pod a redirect reached), the gateways counting as many.
    ['the same count, for a pod past it', { pod: 4, heardCount: 4 }]
  ] as const)('leaves the failure as it is with %s', (_what, over) => {
    expect(ownerAfterScaleDown({ ...facts, ...over })).toBeUndefined()
  })
})

describe('waitForOwner', () => {
  it('never waits to send a body again that has already streamed', () => {
    expect(waitForOwner({ bodyReplayable: false, remainingMs: 2_000, pendingRetryMs: 200 })).toEqual({ act: 'pass', reason: 'body already streamed; cannot be replayed' })
    expect(waitForOwner({ bodyReplayable: true, remainingMs: 2_000, pendingRetryMs: 200 })).toEqual({ act: 'wait', delayMs: 200 })
  })
})
