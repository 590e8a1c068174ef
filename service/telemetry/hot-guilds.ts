import { SpaceSaving } from './space-saving'

/**
 * Which guilds take each gateway pod's traffic, over the last minute, in
 * bounded memory: per pod, six Space-Saving summaries (space-saving.ts) of ten
 * seconds each, the oldest cleared as the window slides. A query merges them.
 *
 * The summaries see a random 1 in `sampleEvery` (8) of the requests, and
 * counts are scaled back up; each pod's request total is exact. Offering every
 * request cost 4–5% of the router's throughput in `npm run bench:ab`, more
 * than the summary's own code explains (likely the collector: the summaries
 * keep request-borne strings alive past their first scavenge); 1 in 8 cost
 * nothing measurable.
 *
 * The bounds, per pod, in requests: a count is at most `error` above what the
 * sample shows, and a guild not listed showed at most `bound`, the sum of the
 * slots' smallest counters (at most requests ÷ 64). On top, sampling makes a
 * count of c uncertain by about √(8c) (one standard deviation): ±6% at 2,000.
 */
export const SLOT_SECONDS = 10
export const SLOTS = 6
export const DEFAULT_CAPACITY = 64
export const DEFAULT_SAMPLE_EVERY = 8

export interface HotGuild {
  readonly guildId: string
  /** Requests in the window, estimated from the sample: the sample's count is at most `error` above the truth, and sampling adds about √(sampleEvery · requests) either way. */
  readonly requests: number
  readonly error: number
  /** requests ÷ the pod's requests in the window. */
  readonly share: number
}

export interface PodHotGuilds {
  /** The pod's requests over the window, exact. */
  readonly requests: number
  /** Counts are estimated from 1 in this many requests. */
  readonly sampleEvery: number
  /** The most the sample overstates any count, and the most any guild not listed showed (scaled like the counts). */
  readonly bound: number
  readonly top: readonly HotGuild[]
}

interface Slot { second: number, requests: number, readonly summary: SpaceSaving }

export interface HotGuildsOptions {
  readonly capacity?: number
  /** 1: every request. */
  readonly sampleEvery?: number
  readonly now?: () => number
  readonly random?: () => number
}

export class HotGuilds {
  readonly #pods: Slot[][]
  readonly #now: () => number
  readonly #random: () => number
  readonly #sampleEvery: number
  readonly #rate: number

  constructor (numPods: number, opts: HotGuildsOptions = {}) {
    this.#now = opts.now ?? Date.now
    this.#random = opts.random ?? Math.random
    this.#sampleEvery = opts.sampleEvery ?? DEFAULT_SAMPLE_EVERY
    this.#rate = 1 / this.#sampleEvery
    const capacity = opts.capacity ?? DEFAULT_CAPACITY
    this.#pods = Array.from({ length: numPods }, () => Array.from({ length: SLOTS }, () => ({ second: -1, requests: 0, summary: new SpaceSaving(capacity) })))
  }

  /** `nowMs` is the caller's clock reading, so one request reads the clock once. */
  record (pod: number, guildId: string, nowMs: number): void {
    const slots = this.#pods[pod]
    if (slots === undefined) return
    const start = Math.floor(nowMs / (SLOT_SECONDS * 1000)) * SLOT_SECONDS
    const slot = slots[(start / SLOT_SECONDS) % SLOTS] as Slot
    if (slot.second !== start) {
      slot.second = start
      slot.requests = 0
      slot.summary.reset()
    }
    slot.requests++
    if (this.#sampleEvery === 1 || this.#random() < this.#rate) slot.summary.offer(guildId)
  }

  /** The `limit` most requested guilds of `pod` over the last minute (the current slot and the five before it). */
  top (pod: number, limit = 10): PodHotGuilds {
    const slots = this.#live(pod)
    let requests = 0
    let bound = 0
    const upper = new Map<string, number>()
    const lower = new Map<string, number>()
    for (const { summary, requests: n } of slots) {
      requests += n
      bound += summary.floor
      for (const e of summary.entries()) {
        upper.set(e.key, (upper.get(e.key) ?? 0) + e.count - summary.floor)
        lower.set(e.key, (lower.get(e.key) ?? 0) + e.count - e.error)
      }
    }
    // Each key was counted above as (count - floor) per slot that lists it;
    // adding every slot's floor makes it count + floor for the slots that don't.
    const scale = this.#sampleEvery
    const top = [...upper]
      .map(([guildId, partial]) => {
        const count = (partial + bound) * scale
        return { guildId, requests: count, error: count - (lower.get(guildId) ?? 0) * scale, share: requests === 0 ? 0 : Math.min(1, count / requests) }
      })
      .sort((a, b) => b.requests - a.requests || (a.guildId < b.guildId ? -1 : 1))
      .slice(0, limit)
    return { requests, sampleEvery: scale, bound: bound * scale, top }
  }

  /** What `top(pod).bound` is, without merging the summaries. */
  bound (pod: number): number {
    return this.#live(pod).reduce((sum, s) => sum + s.summary.floor, 0) * this.#sampleEvery
  }

  #live (pod: number): Slot[] {
    const current = Math.floor(this.#now() / (SLOT_SECONDS * 1000)) * SLOT_SECONDS
    return (this.#pods[pod] ?? []).filter(s => s.second > current - SLOTS * SLOT_SECONDS)
  }
}
