import { describe, expect, it } from 'vitest'
import { HotGuilds, SLOT_SECONDS, SLOTS } from '../../../service/telemetry/hot-guilds'

describe('HotGuilds', () => {
  it('ranks a pod\'s guilds over the last minute with their share, and keeps pods apart', () => {
    let now = 1_000_000_000
    const hot = new HotGuilds(2, { capacity: 8, sampleEvery: 1, now: () => now })
    for (let i = 0; i < 60; i++) hot.record(0, 'a', now)
    for (let i = 0; i < 30; i++) hot.record(0, 'b', now)
    for (let i = 0; i < 10; i++) hot.record(0, 'c', now)
    hot.record(1, 'z', now)
    now += 5_000
    expect(hot.top(0, 2)).toEqual({
      requests: 100,
      sampleEvery: 1,
      bound: 0,
      top: [{ guildId: 'a', requests: 60, error: 0, share: 0.6 }, { guildId: 'b', requests: 30, error: 0, share: 0.3 }]
    })
    expect(hot.top(1).top.map(g => g.guildId)).toEqual(['z'])
    expect(hot.top(7)).toEqual({ requests: 0, sampleEvery: 1, bound: 0, top: [] })
  })

  it('sums the slots of the window and forgets a slot once it is older than a minute', () => {
    let now = 2_000_000_000 - (2_000_000_000 % (SLOT_SECONDS * 1000))
    const hot = new HotGuilds(1, { capacity: 8, sampleEvery: 1, now: () => now })
    hot.record(0, 'old', now)
    for (let s = 1; s < SLOTS; s++) {
      now += SLOT_SECONDS * 1000
      hot.record(0, 'steady', now)
    }
    expect(hot.top(0).top.map(g => [g.guildId, g.requests])).toEqual([['steady', 5], ['old', 1]])
    now += SLOT_SECONDS * 1000 // 'old''s slot is now a minute behind
    hot.record(0, 'steady', now)
    expect(hot.top(0)).toMatchObject({ requests: 6, top: [{ guildId: 'steady', requests: 6 }] })
  })

  it('across slots, a guild missing from a full slot counts that slot\'s floor as possible error', () => {
    let now = 3_000_000_000 - (3_000_000_000 % (SLOT_SECONDS * 1000))
    const hot = new HotGuilds(1, { capacity: 2, sampleEvery: 1, now: () => now })
    for (const g of ['x', 'x', 'y', 'y', 'z']) hot.record(0, g, now) // full at y; z takes a count-2 place
    now += SLOT_SECONDS * 1000
    for (let i = 0; i < 5; i++) hot.record(0, 'w', now)
    const { bound, top, requests } = hot.top(0)
    expect(requests).toBe(10)
    // Slot one keeps z (3, error 2) and one of x, y (2): its floor is 2. Slot two has room: floor 0.
    expect(bound).toBe(2)
    expect(hot.bound(0)).toBe(2)
    // w was never seen in slot one, but could have been up to its floor: 5 + 2, 2 of it error.
    expect(top.find(g => g.guildId === 'w')).toEqual({ guildId: 'w', requests: 7, error: 2, share: 0.7 })
    expect(top.find(g => g.guildId === 'z')).toEqual({ guildId: 'z', requests: 3, error: 2, share: 0.3 })
  })

  it('sampled 1 in 8, as the router runs it: totals exact, a hot guild\'s count within a few standard errors, a cold one never listed above it', () => {
    let seed = 42
    const random = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
    const now = 4_000_000_000
    const hot = new HotGuilds(1, { now: () => now, random })
    for (let i = 0; i < 20_000; i++) hot.record(0, i % 5 === 0 ? 'hot' : `cold-${i % 997}`, now)
    const { requests, sampleEvery, top } = hot.top(0, 3)
    expect({ requests, sampleEvery }).toEqual({ requests: 20_000, sampleEvery: 8 })
    expect(top[0]!.guildId).toBe('hot')
    // 4,000 true; one standard error of the estimate is √(8 · 4,000) ≈ 179.
    expect(Math.abs(top[0]!.requests - 4_000)).toBeLessThan(4 * 179)
    expect(top[0]!.share).toBeCloseTo(0.2, 1)
    expect(top[1]!.requests).toBeLessThan(top[0]!.requests / 4)
  })
})
