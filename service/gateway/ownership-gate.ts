import type { GuildId } from '../routing/guild-id'
import { strategy } from '../routing/strategies'
import { topologyVersion, type Topology } from './topology'

export type Decision =
  | { readonly kind: 'accept' }
  /** Another pod owns the guild under this pod's topology. */
  | { readonly kind: 'not_owner', readonly owner: number }
  /** This pod owns the guild now, but its data may still be on another pod, or on its way here. */
  | { readonly kind: 'pending' }

/** What one peer said of itself on GET /topology. */
export interface PeerAnswer {
  readonly ordinal: number
  readonly version: string
  /** It holds no guild it does not own under `version`, runs no request for one, and has nothing left to send. */
  readonly clean: boolean
  /** The largest pod count it held since it last settled: every ordinal below may hold data. */
  readonly horizon: number
  /** It reports Ready, so routers can reach it (progress only for the gate; the sender waits for it). */
  readonly ready?: boolean
  /** Guilds it still has to send, per destination ordinal (progress only; the protocol does not read it). */
  readonly sendingTo?: Readonly<Record<string, number>>
}

/** One pass over the peers: what each answered, against which of this gate's epochs. */
export interface PeerRound {
  readonly epoch: number
  /** When the peer list was read (ms, same clock as `load`). */
  readonly listedAt: number
  /** Each listed peer's answer, or undefined where it did not answer. Includes this pod. */
  readonly answers: ReadonlyArray<PeerAnswer | undefined>
}

/** A topology change that never settles keeps at most this many; past that nothing is carried over. */
const MAX_CARRIED = 8

/**
 * Single ownership for one gateway pod, data included: the pure core of the protocol.
 *
 * A guild's data is a token: it exists on at most one pod, and only that pod
 * runs requests for the guild. It moves only by a handoff (see handoff.ts):
 * the holder stops accepting the guild, waits for the requests it runs to
 * finish, sends a snapshot, and deletes its copy only after the receiver has
 * stored it. So a pod accepts a guild it owns under its topology when:
 * - it holds the guild's data (and is not sending it away), or
 * - nobody can hold it: the guild was never given away since the last
 *   settled topology (owned here under every topology since), or the epoch
 *   has *settled*.
 *
 * An epoch (the time a pod holds one topology) settles on a peer round whose
 * list was read at least `listFreshnessMs` into the epoch, in which every
 * listed pod, and every ordinal below the largest horizon anyone reported,
 * answered with exactly this topology's version and clean. Then no other pod
 * holds data for a guild this pod owns, so a guild it does not hold has no
 * data anywhere and may start empty here. A silent ordinal (a pod gone with
 * its volume) keeps the epoch unsettled: its guilds are refused with a code,
 * never started empty.
 *
 * Why creation stays single: if pods i and q created one guild under
 * different topologies, each settled after seeing the other clean at its own
 * version; each look came before the other's epoch began, which closes a
 * cycle in time (the README's "Rescaling" section has it in a few lines). A
 * pod that is clean at a version where it does not own a guild no longer
 * holds it and runs no request for it, so the intervals of two pods never
 * overlap either.
 */
export class OwnershipGate {
  readonly ordinal: number
  readonly listFreshnessMs: number
  #topology: Topology
  #version: string
  #pick: (guildId: GuildId, numPods: number) => number
  #epoch = 0
  #loadedAt: number
  #settled = false
  #agreedOnce = false
  #horizon: number
  /** Topologies since the last settled one, as owner functions; a guild this pod owned under all of them was never given away. null: nothing carried. */
  #carried: Array<(guildId: GuildId) => number> | null = null

  /**
   * `horizon`: the one this pod kept on disk; a pod with none starts from its
   * topology's count. `resumeSettled`: before a restart, this pod settled at
   * this same topology and loaded no other since (its journal says so).
   */
  constructor (ordinal: number, topology: Topology, now: number, opts: { listFreshnessMs: number, horizon?: number, resumeSettled?: boolean }) {
    this.ordinal = ordinal
    this.listFreshnessMs = opts.listFreshnessMs
    this.#topology = topology
    this.#version = topologyVersion(topology)
    this.#pick = strategy(topology.strategy).pick
    this.#loadedAt = now
    this.#horizon = Math.max(opts.horizon ?? 0, topology.count)
    // A restart does not end an epoch: the pod held this topology throughout
    // (a pod that is down answers nobody, so no peer could settle at another
    // one without it), and data only ever moves to a pod at the sender's
    // topology. What made the epoch settled still holds, so its guilds, held
    // or not, are served without waiting for every peer again.
    if (opts.resumeSettled === true) {
      this.#settled = true
      this.#agreedOnce = true
      this.#horizon = topology.count
    }
  }

  get topology (): Topology { return this.#topology }
  get version (): string { return this.#version }
  get epoch (): number { return this.#epoch }
  get settled (): boolean { return this.#settled }
  get horizon (): number { return this.#horizon }
  /**
   * Ready for traffic: once since the process started, a fresh round found
   * every listed pod at this pod's topology. Weaker than settled on purpose:
   * a new pod of a scale-up must turn Ready (the StatefulSet creates the next
   * one only then) before its peers can have handed it everything.
   */
  get ready (): boolean { return this.#agreedOnce }

  owner (guildId: GuildId): number {
    return this.#pick(guildId, this.#topology.count)
  }

  /**
   * `held`: this pod has the guild's data. `leaving`: the data is being sent
   * away (fenced); it stays refused here until it is gone, even if the
   * topology gives the guild back meanwhile.
   */
  decide (guildId: GuildId, held: boolean, leaving: boolean): Decision {
    const owner = this.#pick(guildId, this.#topology.count)
    if (owner !== this.ordinal) {
      // Held and not yet fenced: still served here, as if this pod had not
      // loaded the new topology yet. Its data is here and nowhere else, no
      // other pod can serve the guild before it has received it, and no epoch
      // settles while this pod holds a guild it does not own (it is not
      // clean). The fence ends this, and the drain waits for what it let in.
      // So a new owner that is not up yet costs the guild nothing.
      if (held && !leaving) return ACCEPT
      return { kind: 'not_owner', owner }
    }
    if (leaving) return PENDING
    if (held || this.#settled) return ACCEPT
    const carried = this.#carried
    if (carried !== null && carried.every(owner => owner(guildId) === this.ordinal)) return ACCEPT
    return PENDING
  }

  /** A new topology from the file. Returns false when it is the one already held. */
  load (topology: Topology, now: number): boolean {
    const version = topologyVersion(topology)
    if (version === this.#version) return false
    const previous = this.#topology
    const pickPrevious = this.#pick
    const ownerBefore = (guildId: GuildId): number => pickPrevious(guildId, previous.count)
    if (this.#settled) this.#carried = [ownerBefore]
    else if (this.#carried !== null) this.#carried = this.#carried.length >= MAX_CARRIED ? null : [...this.#carried, ownerBefore]
    this.#topology = topology
    this.#version = version
    this.#pick = strategy(topology.strategy).pick
    this.#epoch++
    this.#loadedAt = now
    this.#settled = false
    this.#horizon = Math.max(this.#horizon, topology.count)
    return true
  }

  /** Applies a round of peer answers; returns whether the epoch is settled. */
  settle (round: PeerRound): boolean {
    if (this.#settled) return true
    if (round.epoch !== this.#epoch) return false
    if (round.listedAt - this.#loadedAt < this.listFreshnessMs) return false
    if (round.answers.length === 0) return false
    // Ready needs every pod that answers to hold this topology (on a scale-up,
    // the old pods have the new count before the new pod takes traffic). A
    // pod that cannot be reached (its node gone) must not keep the others
    // from turning Ready: it only keeps the epoch from settling.
    if (round.answers.some(a => a !== undefined && a.version !== this.#version)) return false
    this.#agreedOnce = true
    // A silent pod keeps the epoch from settling, as one that is not clean does.
    const heard = new Set<number>()
    let horizon = this.#horizon
    for (const a of round.answers) {
      if (a === undefined || !a.clean) return false
      heard.add(a.ordinal)
      horizon = Math.max(horizon, a.horizon)
    }
    // Every ordinal that may hold data must have answered, listed or not: a
    // pod deleted with its volume is silent, and its guilds must not start empty.
    for (let n = 0; n < horizon; n++) if (!heard.has(n)) return false
    this.#settled = true
    this.#carried = null
    this.#horizon = this.#topology.count
    return true
  }
}

const ACCEPT: Decision = Object.freeze({ kind: 'accept' })
const PENDING: Decision = Object.freeze({ kind: 'pending' })
