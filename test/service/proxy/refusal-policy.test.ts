import { describe, expect, it } from 'vitest'
import { decideRefusal, type RefusalFacts } from '../../../service/proxy/refusal-policy'

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
