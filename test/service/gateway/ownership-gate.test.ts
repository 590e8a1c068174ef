import { describe, expect, it } from 'vitest'
import { OwnershipGate, type PeerAnswer } from '../../../service/gateway/ownership-gate'
import { parseTopology, topologyVersion, TopologyError } from '../../../service/gateway/topology'
import { seededSnowflakes } from '../../../service/routing/snowflakes'
import { jump, md5Mod } from '../../../service/routing/strategies'

const GUILDS = [...seededSnowflakes(2_000, 3n)]
const t3 = { strategy: 'md5-mod', count: 3 } as const
const t4 = { strategy: 'md5-mod', count: 4 } as const
const v3 = topologyVersion(t3)
const v4 = topologyVersion(t4)

/** Every ordinal below `count` answering with `version`, clean, at horizon `count`. */
function all (count: number, version: string, over: Partial<PeerAnswer> & { ordinal?: number } = {}): PeerAnswer[] {
  return Array.from({ length: count }, (_, ordinal) => ({ ordinal, version, clean: true, horizon: count, ...(over.ordinal === ordinal ? over : {}) }))
}

function settled (ordinal: number, t: typeof t3 | typeof t4, now = 0): OwnershipGate {
  const gate = new OwnershipGate(ordinal, t, now, { listFreshnessMs: 0 })
  expect(gate.settle({ epoch: 0, listedAt: now, answers: all(t.count, gate.version) })).toBe(true)
  return gate
}

describe('OwnershipGate', () => {
  it('a new process serves the guilds it holds at once, and starts others only once every pod is at its topology and clean', () => {
    const gate = new OwnershipGate(1, t3, 0, { listFreshnessMs: 0 })
    const mine = GUILDS.filter(g => md5Mod(g, 3) === 1)
    expect(mine.map(g => gate.decide(g, false, false).kind)).toEqual(mine.map(() => 'pending'))
    expect(mine.map(g => gate.decide(g, true, false).kind)).toEqual(mine.map(() => 'accept'))
    expect(gate.settle({ epoch: 0, listedAt: 1, answers: [...all(3, v3).slice(0, 2), { ordinal: 2, version: v4, clean: true, horizon: 4 }] })).toBe(false)
    expect(gate.ready).toBe(false)
    expect(gate.settle({ epoch: 0, listedAt: 1, answers: all(3, v3, { ordinal: 0, clean: false }) })).toBe(false)
    expect(gate.settled).toBe(false)
    // Every pod holds its topology: Ready, though gateway-0 still has guilds to hand off.
    expect(gate.ready).toBe(true)
    expect(gate.settle({ epoch: 0, listedAt: 1, answers: all(3, v3) })).toBe(true)
    expect(mine.map(g => gate.decide(g, false, false).kind)).toEqual(mine.map(() => 'accept'))
  })

  it('a listed pod that cannot be reached (its node gone) does not keep the others from turning Ready, only from settling', () => {
    const gate = new OwnershipGate(1, t3, 0, { listFreshnessMs: 0 })
    expect(gate.settle({ epoch: 0, listedAt: 1, answers: [...all(3, v3).slice(0, 2), undefined] })).toBe(false)
    expect([gate.ready, gate.settled]).toEqual([true, false])
    // One that answers at another topology still does (a scale-up's old pods before they load the new count).
    const next = new OwnershipGate(1, t3, 0, { listFreshnessMs: 0 })
    expect(next.settle({ epoch: 0, listedAt: 1, answers: [all(3, v3)[0], undefined, { ordinal: 2, version: v4, clean: true, horizon: 4 }] })).toBe(false)
    expect(next.ready).toBe(false)
  })

  it('a restart that reads the topology it had settled at resumes settled: every guild it owns is served without any peer', () => {
    const gate = new OwnershipGate(1, t3, 0, { listFreshnessMs: 0, horizon: 3, resumeSettled: true })
    const mine = GUILDS.filter(g => md5Mod(g, 3) === 1)
    expect([gate.ready, gate.settled, gate.horizon]).toEqual([true, true, 3])
    expect(mine.map(g => gate.decide(g, false, false).kind)).toEqual(mine.map(() => 'accept'))
    // Without it, a guild it does not hold waits for the peers.
    const cold = new OwnershipGate(1, t3, 0, { listFreshnessMs: 0, horizon: 3 })
    expect(mine.map(g => cold.decide(g, false, false).kind)).toEqual(mine.map(() => 'pending'))
  })

  it('a silent ordinal below the horizon keeps the epoch unsettled, listed or not (a pod gone with its volume)', () => {
    const gate = settled(0, t3)
    gate.load({ strategy: 'md5-mod', count: 2 }, 10)
    const v2 = gate.version
    expect(gate.horizon).toBe(3)
    // Pods 0 and 1 answer; pod 2 was deleted before it ever held count 2.
    expect(gate.settle({ epoch: 1, listedAt: 11, answers: all(2, v2, {}).map(a => ({ ...a, horizon: 2 })) })).toBe(false)
    // A peer's horizon counts too: pod 1 once held 5 pods' worth of topology.
    const fresh = new OwnershipGate(0, { strategy: 'md5-mod', count: 2 }, 0, { listFreshnessMs: 0 })
    expect(fresh.settle({ epoch: 0, listedAt: 1, answers: [{ ordinal: 0, version: v2, clean: true, horizon: 2 }, { ordinal: 1, version: v2, clean: true, horizon: 5 }] })).toBe(false)
    expect(fresh.settle({ epoch: 0, listedAt: 1, answers: [...all(5, v2)] })).toBe(true)
    expect(fresh.horizon).toBe(2)
    expect(gate.settle({ epoch: 1, listedAt: 11, answers: all(3, v2) })).toBe(true)
  })

  it('a horizon kept on disk survives a restart', () => {
    const gate = new OwnershipGate(0, { strategy: 'md5-mod', count: 2 }, 0, { listFreshnessMs: 0, horizon: 3 })
    expect(gate.horizon).toBe(3)
    expect(gate.settle({ epoch: 0, listedAt: 1, answers: all(2, gate.version) })).toBe(false)
  })

  it('on a new topology: keeps serving what it lost only while it holds it unfenced, keeps what stays, holds what it gains until its data arrives or the epoch settles', () => {
    const gate = settled(0, t3)
    gate.load(t4, 10)
    const kinds = new Set<string>()
    for (const g of GUILDS) {
      const before = md5Mod(g, 3)
      const after = md5Mod(g, 4)
      const kind = gate.decide(g, false, false).kind
      if (after !== 0) expect(kind).toBe('not_owner')
      else if (before === 0) expect(kind).toBe('accept')
      else {
        expect(kind).toBe('pending')
        expect(gate.decide(g, true, false).kind).toBe('accept') // its data arrived
      }
      if (after !== 0) {
        expect(gate.decide(g, true, false).kind).toBe('accept') // held, not yet fenced: nobody else can serve it
        expect(gate.decide(g, true, true).kind).toBe('not_owner') // fenced: on its way to the owner
      }
      kinds.add(kind)
    }
    expect([...kinds].sort()).toEqual(['accept', 'not_owner', 'pending'])
  })

  it('a guild on its way out stays refused even when the topology gives it back', () => {
    const gate = settled(0, t3)
    const g = GUILDS.find(g => md5Mod(g, 3) === 0)!
    expect(gate.decide(g, true, false).kind).toBe('accept')
    expect(gate.decide(g, true, true).kind).toBe('pending')
  })

  it('ignores rounds from an earlier epoch, even fresh ones, and lists read too soon after the change', () => {
    const gate = new OwnershipGate(0, t3, 0, { listFreshnessMs: 30_000 })
    expect(gate.settle({ epoch: 0, listedAt: 29_999, answers: all(3, v3) })).toBe(false)
    gate.load(t4, 100)
    // Fresh enough and every pod at the gate's new version, but asked in epoch 0: only the epoch check refuses it.
    expect(gate.settle({ epoch: 0, listedAt: 40_000, answers: all(4, v4) })).toBe(false)
    expect(gate.settle({ epoch: 1, listedAt: 30_099, answers: all(4, v4) })).toBe(false)
    expect(gate.settle({ epoch: 1, listedAt: 30_100, answers: all(4, v4) })).toBe(true)
  })

  it('an empty round settles nothing', () => {
    const gate = new OwnershipGate(0, { strategy: 'md5-mod', count: 1 }, 0, { listFreshnessMs: 0, horizon: 0 })
    expect(gate.settle({ epoch: 0, listedAt: 1, answers: [] })).toBe(false)
  })

  it('changes that never settle carry only guilds owned under every topology since the last settled one', () => {
    const gate = new OwnershipGate(0, { strategy: 'jump', count: 3 }, 0, { listFreshnessMs: 0 })
    gate.settle({ epoch: 0, listedAt: 0, answers: all(3, gate.version) })
    gate.load({ strategy: 'jump', count: 5 }, 1)
    gate.load({ strategy: 'jump', count: 4 }, 2)
    expect(gate.horizon).toBe(5)
    for (const g of GUILDS) {
      const kept = jump(g, 3) === 0 && jump(g, 5) === 0 && jump(g, 4) === 0
      expect(gate.decide(g, false, false).kind).toBe(jump(g, 4) !== 0 ? 'not_owner' : kept ? 'accept' : 'pending')
    }
  })
})

describe('parseTopology', () => {
  it('reads the ConfigMap file and names the problem otherwise', () => {
    expect(parseTopology('{"strategy":"jump","count":4}')).toEqual({ strategy: 'jump', count: 4 })
    expect(() => parseTopology('nope', 'topology.json')).toThrow(new TopologyError('topology.json is not JSON'))
    expect(() => parseTopology('{"strategy":"ring","count":4}')).toThrow(/strategy must be one of/)
    expect(() => parseTopology('{"strategy":"jump","count":0}')).toThrow(/count must be an integer from 1/)
    expect(topologyVersion(t3)).toMatch(/^[0-9a-f]{12}$/)
    expect(topologyVersion(t3)).not.toBe(topologyVersion(t4))
  })

  it.each([
    ['{"strategy":"jump","count":1}', 1],
    ['{"strategy":"jump","count":100000}', 100_000]
  ])('takes %s: the ends of the count range', (text, count) => {
    expect(parseTopology(text).count).toBe(count)
  })

  it.each(['0', '100001', '2.5', '"3"', 'null', '-1'])('refuses count %s with a coded error named for its source', count => {
    let thrown: unknown
    try { parseTopology(`{"strategy":"jump","count":${count}}`) } catch (err) { thrown = err }
    expect(thrown).toBeInstanceOf(TopologyError)
    expect(thrown).toMatchObject({ code: 'invalid_topology', name: 'TopologyError' })
    expect((thrown as Error).message).toBe(`topology: count must be an integer from 1 to 100000 (got ${count})`)
  })
})

describe('OwnershipGate: loading and settling, edge by edge', () => {
  const jump3 = { strategy: 'jump', count: 3 } as const
  const jump5 = { strategy: 'jump', count: 5 } as const

  it('loading the topology it already holds changes nothing: no new epoch, still settled', () => {
    const gate = settled(0, t3)
    expect(gate.load({ ...t3 }, 5)).toBe(false)
    expect([gate.epoch, gate.settled, gate.version]).toEqual([0, true, v3])
    expect(gate.load(t4, 6)).toBe(true)
    expect([gate.epoch, gate.settled, gate.version, gate.horizon]).toEqual([1, false, v4, 4])
  })

  it('once settled, a later round (even of an older epoch) does not unsettle it', () => {
    const gate = settled(0, t3)
    expect(gate.settle({ epoch: 7, listedAt: 0, answers: [] })).toBe(true)
    expect(gate.settled).toBe(true)
  })

  it('a round with no answers at all proves nothing, not even readiness', () => {
    const gate = new OwnershipGate(0, t3, 0, { listFreshnessMs: 0 })
    expect(gate.settle({ epoch: 0, listedAt: 1, answers: [] })).toBe(false)
    expect([gate.ready, gate.settled]).toEqual([false, false])
  })

  it('a guild is served early only if this pod owned it under every topology since the last settled one', () => {
    // Settled at md5-mod × 3, then 4, then (before 4 settles) jump × 3.
    const gate = settled(0, t3)
    gate.load(t4, 1)
    gate.load(jump3, 2)
    const ownedThroughout = GUILDS.filter(g => md5Mod(g, 3) === 0 && md5Mod(g, 4) === 0 && jump(g, 3) === 0)
    const lostInBetween = GUILDS.filter(g => md5Mod(g, 3) === 0 && md5Mod(g, 4) !== 0 && jump(g, 3) === 0)
    expect(ownedThroughout.length).toBeGreaterThan(10)
    expect(lostInBetween.length).toBeGreaterThan(10)
    expect(new Set(ownedThroughout.map(g => gate.decide(g, false, false).kind))).toEqual(new Set(['accept']))
    expect(new Set(lostInBetween.map(g => gate.decide(g, false, false).kind))).toEqual(new Set(['pending']))
  })

  it('after eight topologies that never settled it stops carrying them: nothing unheld is served early', () => {
    // The settled one and seven more are carried; the ninth change drops the lot.
    const gate = settled(0, t3)
    const counts = [4, 5, 6, 7, 8, 9, 10]
    counts.forEach((count, i) => gate.load({ strategy: 'jump', count }, i + 1))
    // Still carrying: a guild that stayed with pod 0 throughout is served.
    const stayed = GUILDS.filter(g => md5Mod(g, 3) === 0 && counts.every(c => jump(g, c) === 0))
    expect(stayed.length).toBeGreaterThan(5)
    expect(new Set(stayed.map(g => gate.decide(g, false, false).kind))).toEqual(new Set(['accept']))
    gate.load(jump5, 20)
    gate.load({ strategy: 'jump', count: 11 }, 21)
    const stillStayed = stayed.filter(g => jump(g, 5) === 0 && jump(g, 11) === 0)
    expect(stillStayed.length).toBeGreaterThan(0)
    expect(new Set(stillStayed.map(g => gate.decide(g, false, false).kind))).toEqual(new Set(['pending']))
  })
})
