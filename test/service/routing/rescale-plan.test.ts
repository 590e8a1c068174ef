import { describe, expect, it } from 'vitest'
import { topologyVersion } from '../../../service/gateway/topology'
import { planRescale } from '../../../service/routing/rescale-plan'
import type { RoutingStrategy } from '../../../service/routing/strategies'

// A strategy whose answers are easy to work out by hand: the id modulo the count.
const modulo = { name: 'md5-mod', pick: (id: string, n: number) => Number(id) % n } as unknown as RoutingStrategy
const ids = Array.from({ length: 12 }, (_, n) => String(n))

describe('planRescale', () => {
  it('counts the guilds that change owner and where each flow goes, sorted by source then destination', () => {
    const plan = planRescale(ids, modulo, 3, 4)
    // 0..11 mod 3 against mod 4: 0, 1 and 2 stay; the other nine each take a different source and destination.
    const moves = ids.filter(id => Number(id) % 3 !== Number(id) % 4)
    expect(plan).toMatchObject({ strategy: 'md5-mod', from: 3, to: 4, total: 12, moved: moves.length, minimumFraction: 0.25 })
    expect(plan.fromVersion).toBe(topologyVersion({ strategy: 'md5-mod', count: 3 }))
    expect(plan.toVersion).toBe(topologyVersion({ strategy: 'md5-mod', count: 4 }))
    expect(plan.flows).toEqual([
      { from: 0, to: 1, count: 1 }, { from: 0, to: 2, count: 1 }, { from: 0, to: 3, count: 1 },
      { from: 1, to: 0, count: 1 }, { from: 1, to: 2, count: 1 }, { from: 1, to: 3, count: 1 },
      { from: 2, to: 0, count: 1 }, { from: 2, to: 1, count: 1 }, { from: 2, to: 3, count: 1 }
    ])
    expect(plan.flows.reduce((n, f) => n + f.count, 0)).toBe(plan.moved)
    expect(plan).not.toHaveProperty('movedIds')
  })

  it('lists each moved guild when asked, and nothing moves when the count stays', () => {
    const plan = planRescale(ids, modulo, 4, 2, { listIds: true })
    expect(plan.movedIds).toEqual([
      { guildId: '2', from: 2, to: 0 }, { guildId: '3', from: 3, to: 1 }, { guildId: '6', from: 2, to: 0 },
      { guildId: '7', from: 3, to: 1 }, { guildId: '10', from: 2, to: 0 }, { guildId: '11', from: 3, to: 1 }
    ])
    expect(plan.minimumFraction).toBe(0.5)
    expect(planRescale(ids, modulo, 3, 3)).toMatchObject({ moved: 0, flows: [], minimumFraction: 0 })
  })
})
