import { SpaceSaving } from './space-saving'

/**
 * Which guilds take each gateway pod's traffic, over the last minute, in
 * bounded memory: per pod, six Space-Saving summaries (space-saving.ts) of ten
 * seconds each, the oldest cleared as the window slides. A query merges them.
 *
 * The bound, per pod: a reported count is at most `bound` above the guild's
 * true count, and a guild not listed had at most `bound` requests, where
 * `bound` is the sum of the slots' smallest counters, itself at most
 * requests ÷ capacity. With the default 64 counters, a guild with more than
 * 1/64 (1.6%) of a pod's minute is always listed.
 */
export const SLOT_SECONDS = 10
export const SLOTS = 6
export const DEFAULT_CAPACITY = 64

export interface HotGuild {
  readonly guildId: string
  /** Requests in the window: an upper bound, at most `error` above the true count. */
  readonly requests: number
  readonly error: number
  /** requests ÷ the pod's requests in the window. */
  readonly share: number
}

export interface PodHotGuilds {
  /** The pod's requests over the window, exact. */
  readonly requests: number
  /** The most any count is overstated, and the most any guild not listed had. */
  readonly bound: number
  readonly top: readonly HotGuild[]
}

interface Slot { second: number, readonly summary: SpaceSaving }

export class HotGuilds {
  readonly #pods: Slot[][]
  readonly #now: () => number

  constructor (numPods: number, capacity = DEFAULT_CAPACITY, now: () => number = Date.now) {
    this.#now = now
    this.#pods = Array.from({ length: numPods }, () => Array.from({ length: SLOTS }, () => ({ second: -1, summary: new SpaceSaving(capacity) })))
  }

  /** `nowMs` is the caller's clock reading, so one request reads the clock once. */
  record (pod: number, guildId: string, nowMs: number): void {
    const slots = this.#pods[pod]
    if (slots === undefined) return
    const start = Math.floor(nowMs / (SLOT_SECONDS * 1000)) * SLOT_SECONDS
    const slot = slots[(start / SLOT_SECONDS) % SLOTS] as Slot
    if (slot.second !== start) {
      slot.second = start
      slot.summary.reset()
    }
    slot.summary.offer(guildId)
  }

  /** The `limit` most requested guilds of `pod` over the last minute (the current slot and the five before it). */
  top (pod: number, limit = 10): PodHotGuilds {
    const slots = this.#live(pod)
    let requests = 0
    let bound = 0
    const upper = new Map<string, number>()
    const lower = new Map<string, number>()
    for (const { summary } of slots) {
      requests += summary.total
      bound += summary.floor
      for (const e of summary.entries()) {
        upper.set(e.key, (upper.get(e.key) ?? 0) + e.count - summary.floor)
        lower.set(e.key, (lower.get(e.key) ?? 0) + e.count - e.error)
      }
    }
    // Each key was counted above as (count - floor) per slot that lists it;
    // adding every slot's floor makes it count + floor for the slots that don't.
    const top = [...upper]
      .map(([guildId, partial]) => {
        const count = partial + bound
        return { guildId, requests: count, error: count - (lower.get(guildId) ?? 0), share: requests === 0 ? 0 : count / requests }
      })
      .sort((a, b) => b.requests - a.requests || (a.guildId < b.guildId ? -1 : 1))
      .slice(0, limit)
    return { requests, bound, top }
  }

  #live (pod: number): Slot[] {
    const current = Math.floor(this.#now() / (SLOT_SECONDS * 1000)) * SLOT_SECONDS
    return (this.#pods[pod] ?? []).filter(s => s.second > current - SLOTS * SLOT_SECONDS)
  }
}
