import type { GuildId } from '../routing/guild-id'
import { strategy } from '../routing/strategies'
import { topologyVersion, type Topology } from './topology'

export type Decision =
  | { readonly kind: 'accept' }
  /** Another pod owns the guild under this pod's topology. */
  | { readonly kind: 'not_owner', readonly owner: number }
  /** This pod owns the guild now, but a peer may still hold an older topology that gives it elsewhere. */
  | { readonly kind: 'pending' }

/** One pass over the peers: what each answered, against which of this gate's epochs. */
export interface PeerRound {
  readonly epoch: number
  /** When the peer list was read (ms, same clock as `load`). */
  readonly listedAt: number
  /** Each listed peer's topology version, or undefined where it did not answer. Includes this pod. */
  readonly versions: ReadonlyArray<string | undefined>
}

/** A topology change that never settles keeps at most this many; past that nothing is carried over. */
const MAX_CARRIED = 8

/**
 * Single ownership for one gateway pod: the pure core of the protocol.
 *
 * Each pod holds one topology at a time; an *epoch* is the time it holds one.
 * - A guild is accepted only if this pod owns it under its topology.
 * - A guild the pod also owned, and accepted, under the topology before keeps
 *   being accepted across the change (no gap for guilds that do not move).
 * - Any other guild it owns waits until the epoch *settles*: a peer list read
 *   at least `listFreshnessMs` into the epoch (so no cached list from before
 *   it), and every pod on it answering with exactly this topology's version.
 *
 * Why that is enough: if pods i and q accepted one guild at the same moment,
 * each accepted it under a different topology, and each settled after seeing
 * the other at its own. Each saw the other before the other's epoch began, so
 * i's look at q came before q's epoch, which came before q's look at i, which
 * came before i's epoch, which came before i's look at q — a cycle in time.
 * A pod not on the list did not exist when the list was read; if it starts
 * later, its own epoch begins after, and the same cycle closes. The README's
 * "Rescaling" section has the protocol in a few lines.
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
  #settledOnce = false
  /** Topologies since the last settled one, as owner functions; a guild this pod owned under all of them was never given away. null: nothing carried. */
  #carried: Array<(guildId: GuildId) => number> | null = null

  constructor (ordinal: number, topology: Topology, now: number, opts: { listFreshnessMs: number }) {
    this.ordinal = ordinal
    this.listFreshnessMs = opts.listFreshnessMs
    this.#topology = topology
    this.#version = topologyVersion(topology)
    this.#pick = strategy(topology.strategy).pick
    this.#loadedAt = now
  }

  get topology (): Topology { return this.#topology }
  get version (): string { return this.#version }
  get epoch (): number { return this.#epoch }
  get settled (): boolean { return this.#settled }
  /** Ready for traffic: settled at least once since the process started. */
  get ready (): boolean { return this.#settledOnce }

  decide (guildId: GuildId): Decision {
    const owner = this.#pick(guildId, this.#topology.count)
    if (owner !== this.ordinal) return { kind: 'not_owner', owner }
    if (this.#settled) return ACCEPT
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
    return true
  }

  /** Applies a round of peer answers; returns whether the epoch is settled. */
  settle (round: PeerRound): boolean {
    if (this.#settled) return true
    if (round.epoch !== this.#epoch) return false
    if (round.listedAt - this.#loadedAt < this.listFreshnessMs) return false
    if (round.versions.length === 0 || !round.versions.every(v => v === this.#version)) return false
    this.#settled = true
    this.#settledOnce = true
    this.#carried = null
    return true
  }
}

const ACCEPT: Decision = Object.freeze({ kind: 'accept' })
const PENDING: Decision = Object.freeze({ kind: 'pending' })
