import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DeadlineQueue, type DeadlineEntry } from '../../../service/proxy/deadline-queue'

function entry (name: string, expired: string[]): DeadlineEntry {
  return { deadlineAt: 0, deadlinePrev: undefined, deadlineNext: undefined, expire: () => { expired.push(name) } }
}

describe('DeadlineQueue', () => {
  let now = 0
  beforeEach(() => { vi.useFakeTimers(); now = 0 })
  afterEach(() => { vi.useRealTimers() })
  const advance = async (ms: number): Promise<void> => { now += ms; await vi.advanceTimersByTimeAsync(ms) }

  it('expires entries in the order they joined, each lengthMs after it joined', async () => {
    const expired: string[] = []
    const queue = new DeadlineQueue(100, () => now)
    queue.add(entry('a', expired))
    await advance(30)
    queue.add(entry('b', expired))
    await advance(69)
    expect(expired).toEqual([])
    await advance(1)
    expect(expired).toEqual(['a'])
    await advance(29)
    expect(expired).toEqual(['a'])
    await advance(1)
    expect(expired).toEqual(['a', 'b'])
    expect(queue.size).toBe(0)
  })

  it('never expires an entry that left, wherever it was in the queue', async () => {
    const expired: string[] = []
    const queue = new DeadlineQueue(100, () => now)
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(n => entry(n, expired)) as [DeadlineEntry, DeadlineEntry, DeadlineEntry, DeadlineEntry]
    for (const e of [a, b, c, d]) { queue.add(e); await advance(10) }
    queue.remove(b) // middle
    queue.remove(a) // head
    queue.remove(d) // tail
    queue.remove(d) // twice: harmless
    expect(queue.size).toBe(1)
    await advance(200)
    expect(expired).toEqual(['c'])
  })

  it('holds no timer while empty, and arms one again for the next entry', async () => {
    const expired: string[] = []
    const queue = new DeadlineQueue(50, () => now)
    const a = entry('a', expired)
    queue.add(a)
    queue.remove(a)
    await advance(60) // the timer armed for a fires, finds nothing due, and is not re-armed
    expect(vi.getTimerCount()).toBe(0)
    queue.add(entry('b', expired))
    expect(vi.getTimerCount()).toBe(1)
    await advance(50)
    expect(expired).toEqual(['b'])
  })

  it('lets an expiring entry take others out of the queue', async () => {
    const expired: string[] = []
    const queue = new DeadlineQueue(10, () => now)
    const b = entry('b', expired)
    queue.add({ ...entry('a', expired), expire: () => { expired.push('a'); queue.remove(b) } })
    queue.add(b)
    await advance(10)
    expect(expired).toEqual(['a'])
    expect(queue.size).toBe(0)
  })
})
