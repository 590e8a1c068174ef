import { describe, expect, it } from 'vitest'
import type { OwnershipStatus } from '../../../service/gateway/gateway-ownership'
import { barrierVerdict } from '../../../service/gateway/handoff-barrier'
import { topologyVersion, type Topology } from '../../../service/gateway/topology'

const t3: Topology = { strategy: 'jump', count: 3 }
const t4: Topology = { strategy: 'jump', count: 4 }

function pod (ordinal: number, t: Topology, over: Partial<OwnershipStatus> = {}): OwnershipStatus {
  const none = { guilds: 0, bytes: 0 }
  return {
    ordinal, version: topologyVersion(t), strategy: t.strategy, count: t.count, settled: true, ready: true, clean: true, horizon: t.count, guilds: 10,
    handoff: { sending: { ...none, to: {} }, receiving: none, sent: none, received: none },
    ...over
  }
}

describe('barrierVerdict: may the StatefulSet shrink now?', () => {
  it.each([
    ['a scale-up, before the new pods exist: nothing leaves, nothing to wait for', t4, [pod(0, t3), pod(1, t3), pod(2, t3)], true],
    ['a scale-up where an old pod does not answer: still nothing leaves', t4, [pod(0, t3), undefined, pod(2, t3)], true],
    ['no change, every pod settled', t3, [pod(0, t3), pod(1, t3), pod(2, t3)], true],
    ['no change, a pod not settled yet: nothing leaves, nothing to wait for', t3, [pod(0, t3), pod(1, t3, { settled: false, clean: false }), pod(2, t3)], true],
    ['the last pod on the list answers as gateway-3 under a target of 3: it is leaving', t3, [pod(0, t3), pod(1, t3), pod(3, t4)], false],
    ['4 → 3, every pod settled at 3', t3, [0, 1, 2, 3].map(n => pod(n, t3)), true],
    ['4 → 3, the leaving pod still at 4', t3, [pod(0, t3), pod(1, t3), pod(2, t3), pod(3, t4)], false],
    ['4 → 3, the leaving pod at 3 but still sending', t3, [pod(0, t3), pod(1, t3), pod(2, t3), pod(3, t3, { settled: false, clean: false })], false],
    ['4 → 3, a survivor not settled yet', t3, [pod(0, t3, { settled: false }), pod(1, t3), pod(2, t3), pod(3, t3)], false],
    ['4 → 3, one listed pod silent', t3, [pod(0, t3), pod(1, t3), undefined, pod(3, t3)], false],
    ['4 → 3, the leaving pod silent (more listed than the target keeps)', t3, [pod(0, t3), pod(1, t3), pod(2, t3), undefined], false]
  ] as Array<[string, Topology, Array<OwnershipStatus | undefined>, boolean]>)('%s', (_name, target, answers, done) => {
    const verdict = barrierVerdict(target, answers)
    expect(verdict.done).toBe(done)
    expect(verdict.waiting.length === 0).toBe(done)
  })

  it('says what is stuck, pod by pod', () => {
    const verdict = barrierVerdict(t3, [pod(0, t3), pod(1, t3), pod(2, t4), pod(3, t3, {
      settled: false,
      clean: false,
      handoff: { sending: { guilds: 12, bytes: 3_000_000, to: { 0: 7, 1: 5 } }, receiving: { guilds: 0, bytes: 0 }, sent: { guilds: 0, bytes: 0 }, received: { guilds: 0, bytes: 0 }, stuck: 'guild 1 → pod 0: 409 handoff_conflict' }
    })])
    expect(verdict.waiting).toEqual([
      'gateway-2 still holds jump × 4 (its ConfigMap mount has not refreshed yet)',
      'gateway-3: sending 12 guilds (3000000 bytes) to gateway-0, gateway-1; last error: guild 1 → pod 0: 409 handoff_conflict'
    ])
  })
})

describe('barrierVerdict: what each waiting line says', () => {
  const none = { guilds: 0, bytes: 0 }
  it.each([
    ['a silent peer, by its place on the list', [pod(0, t3), pod(1, t3), undefined, pod(3, t3)], 'peer 2 on the list did not answer'],
    ['a pod at the old topology', [pod(0, t3), pod(1, t3), pod(2, t3), pod(3, t4)], `gateway-3 still holds jump × 4 (its ConfigMap mount has not refreshed yet)`],
    ['a pod still draining', [pod(0, t3), pod(1, t3), pod(2, t3), pod(3, t3, { settled: false, clean: false })], 'gateway-3: draining requests for guilds it no longer owns'],
    ['a clean pod waiting for its peers', [pod(0, t3), pod(1, t3), pod(2, t3), pod(3, t3, { settled: false, clean: true })], 'gateway-3: waiting for every peer to confirm it holds nothing it does not own'],
    ['a pod sending, with no destination known and no error', [pod(0, t3), pod(1, t3), pod(2, t3), pod(3, t3, {
      settled: false, clean: false, handoff: { sending: { guilds: 2, bytes: 10, to: {} }, receiving: none, sent: none, received: none }
    })], 'gateway-3: sending 2 guilds (10 bytes) to their owners']
  ] as Array<[string, Array<OwnershipStatus | undefined>, string]>)('%s', (_name, answers, line) => {
    expect(barrierVerdict(t3, answers)).toEqual({ done: false, waiting: [line] })
  })
})
