import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SpaceSaving } from '../../../service/telemetry/space-saving'

function exact (stream: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const key of stream) counts.set(key, (counts.get(key) ?? 0) + 1)
  return counts
}

describe('SpaceSaving', () => {
  it('counts exactly while it has room', () => {
    const s = new SpaceSaving(4)
    for (const key of ['a', 'b', 'a', 'c', 'a', 'b']) s.offer(key)
    expect(s.entries()).toEqual([
      { key: 'a', count: 3, error: 0 },
      { key: 'b', count: 2, error: 0 },
      { key: 'c', count: 1, error: 0 }
    ])
    expect(s.floor).toBe(0)
    expect(s.total).toBe(6)
  })

  it('a newcomer takes the least counted key\'s place and inherits its count as error', () => {
    const s = new SpaceSaving(2)
    for (const key of ['a', 'a', 'a', 'b', 'c']) s.offer(key)
    // b (1) gives way to c, which counts 1 + 1 with an error of 1.
    expect(s.entries()).toEqual([{ key: 'a', count: 3, error: 0 }, { key: 'c', count: 2, error: 1 }])
    expect(s.floor).toBe(2)
  })

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new SpaceSaving(0)).toThrow(/capacity must be a positive integer, got 0/)
  })

  it('reset forgets every key', () => {
    const s = new SpaceSaving(2)
    s.offer('a')
    s.reset()
    expect(s.entries()).toEqual([])
    expect(s.total).toBe(0)
  })

  // The guarantees the status page states, over random skewed streams.
  it('never undercounts, overcounts by at most its error ≤ N/k, and lists every key above N/k', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 16 }),
      fc.array(fc.integer({ min: 0, max: 40 }).map(n => `g${Math.floor(n * n / 40)}`), { maxLength: 600 }),
      (capacity, stream) => {
        const s = new SpaceSaving(capacity)
        for (const key of stream) s.offer(key)
        const truth = exact(stream)
        const listed = new Map(s.entries().map(e => [e.key, e]))
        const bound = stream.length / capacity
        expect(s.floor).toBeLessThanOrEqual(bound)
        for (const e of listed.values()) {
          const real = truth.get(e.key) ?? 0
          expect(e.count).toBeGreaterThanOrEqual(real)
          expect(e.count - e.error).toBeLessThanOrEqual(real)
          expect(e.error).toBeLessThanOrEqual(s.floor)
        }
        for (const [key, real] of truth) {
          if (real > bound) expect(listed.has(key), `${key} (${real} > ${bound})`).toBe(true)
          if (!listed.has(key)) expect(real).toBeLessThanOrEqual(s.floor)
        }
        // The heap order: entries() is sorted, and the floor is its last count once full.
        const counts = s.entries().map(e => e.count)
        expect(counts).toEqual([...counts].sort((a, b) => b - a))
        if (listed.size === capacity) expect(s.floor).toBe(counts[counts.length - 1])
      }
    ), { numRuns: 300 })
  })
})
