import { describe, expect, it } from 'vitest'
import { OwnershipGate } from '../../../service/ownership/ownership-gate'
import { parseTopology, topologyVersion, TopologyError } from '../../../service/ownership/topology'
import { seededSnowflakes } from '../../../service/routing/snowflakes'
import { jump, md5Mod } from '../../../service/routing/strategies'

const GUILDS = [...seededSnowflakes(2_000, 3n)]
const t3 = { strategy: 'md5-mod', count: 3 } as const
const t4 = { strategy: 'md5-mod', count: 4 } as const

function settled (ordinal: number, t: typeof t3 | typeof t4, now = 0): OwnershipGate {
  const gate = new OwnershipGate(ordinal, t, now, { listFreshnessMs: 0 })
  expect(gate.settle({ epoch: 0, listedAt: now, versions: [gate.version] })).toBe(true)
  return gate
}

describe('OwnershipGate', () => {
  it('a new process accepts nothing until a round shows every peer at its topology', () => {
    const gate = new OwnershipGate(1, t3, 0, { listFreshnessMs: 0 })
    const mine = GUILDS.filter(g => md5Mod(g, 3) === 1)
    expect(mine.map(g => gate.decide(g).kind)).toEqual(mine.map(() => 'pending'))
    expect(gate.ready).toBe(false)
    expect(gate.settle({ epoch: 0, listedAt: 1, versions: [gate.version, topologyVersion(t4)] })).toBe(false)
    expect(gate.settle({ epoch: 0, listedAt: 1, versions: [gate.version, undefined] })).toBe(false)
    expect(gate.settle({ epoch: 0, listedAt: 1, versions: [gate.version, gate.version] })).toBe(true)
    expect(mine.map(g => gate.decide(g).kind)).toEqual(mine.map(() => 'accept'))
    expect(gate.ready).toBe(true)
  })

  it('on a new topology: refuses what it lost at once, keeps what stays, holds what it gains until settled', () => {
    const gate = settled(0, t3)
    gate.load(t4, 10)
    const kinds = new Set<string>()
    for (const g of GUILDS) {
      const before = md5Mod(g, 3)
      const after = md5Mod(g, 4)
      const kind = gate.decide(g).kind
      if (after !== 0) expect(kind).toBe('not_owner')
      else if (before === 0) expect(kind).toBe('accept')
      else expect(kind).toBe('pending')
      kinds.add(kind)
    }
    expect([...kinds].sort()).toEqual(['accept', 'not_owner', 'pending'])
    expect(gate.ready).toBe(true) // it was ready before; it stays in the Service
  })

  it('ignores rounds from an earlier epoch and lists read too soon after the change', () => {
    const gate = new OwnershipGate(0, t3, 0, { listFreshnessMs: 30_000 })
    expect(gate.settle({ epoch: 0, listedAt: 29_999, versions: [gate.version] })).toBe(false)
    const round = { epoch: 0, listedAt: 30_000, versions: [gate.version] }
    gate.load(t4, 100)
    expect(gate.settle(round)).toBe(false)
    expect(gate.settle({ epoch: 1, listedAt: 30_100, versions: [gate.version] })).toBe(true)
  })

  it('changes that never settle carry only guilds owned under every topology since the last settled one', () => {
    const gate = new OwnershipGate(0, { strategy: 'jump', count: 3 }, 0, { listFreshnessMs: 0 })
    gate.settle({ epoch: 0, listedAt: 0, versions: [gate.version] })
    gate.load({ strategy: 'jump', count: 5 }, 1)
    gate.load({ strategy: 'jump', count: 4 }, 2)
    for (const g of GUILDS) {
      const kept = jump(g, 3) === 0 && jump(g, 5) === 0 && jump(g, 4) === 0
      expect(gate.decide(g).kind).toBe(jump(g, 4) !== 0 ? 'not_owner' : kept ? 'accept' : 'pending')
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
})
