import { createHash, randomUUID } from 'node:crypto'
import { request } from 'undici'
import type { GuildId } from '../routing/guild-id'
import type { GuildLeases } from './guild-leases'
import type { GuildStorage } from './guild-storage'
import type { HandoffJournal, OutgoingTransfer } from './handoff-journal'
import { handoffPath, TRANSFER_HEADERS } from './handoff-wire'

export interface HandoffSenderDeps {
  readonly ordinal: number
  /** The guild's owner under this pod's topology now. */
  readonly owner: (guildId: GuildId) => number
  readonly storage: GuildStorage
  readonly journal: HandoffJournal
  readonly leases: GuildLeases
  /** The peer-port base URL of a pod, from the last peer round; undefined while unknown. */
  readonly peerUrl: (ordinal: number) => string | undefined
  /**
   * Whether that pod answered the last round with this pod's own topology.
   * A guild is fenced for a pod only then: a receiver that still holds an
   * older topology would find the guild is not its own and send it straight
   * back, and two pods whose kubelets refresh a minute apart would bounce a
   * guild (and refuse it) for that whole minute. The receiver must also
   * report Ready: until then routers cannot reach it (the headless Service
   * lists Ready pods only), while this pod still serves the guild unfenced.
   */
  readonly agrees: (ordinal: number) => boolean
  readonly timeoutMs: number
  readonly log: (line: Record<string, unknown>) => void
}

export interface TransferTotals { guilds: number, bytes: number }

/** How many guilds one pod sends at once: enough to overlap one copy's disk work with another's network time. */
const PARALLEL = 4

/**
 * The sending half of a handoff. For each guild this pod holds but no longer
 * owns (or runs a request for):
 * 1. fence it: the gate refuses it from now on (it is `leaving`);
 * 2. wait until the requests already running for it have finished;
 * 3. write the destination and a transfer id to the journal: the point of no
 *    return, after which a resend after a crash goes to the same pod even if
 *    the topology gives the guild back meanwhile (the new owner hands it on);
 * 4. send a snapshot with its SHA-256;
 * 5. only on the receiver's confirmation, delete the local copy.
 * Any failure leaves the guild fenced and retried on the next pass: refused
 * with a code, never served from two places, never lost.
 */
export class HandoffSender {
  readonly #deps: HandoffSenderDeps
  /** Guilds to hand off or drain, with their size when queued. */
  readonly #queue = new Map<GuildId, number>()
  /** Fenced and draining, before the journal entry. */
  readonly #fencing = new Set<GuildId>()
  readonly #outgoing = new Map<GuildId, OutgoingTransfer>()
  #running = false
  #again = false
  #closed = false
  lastError: string | undefined
  readonly sent: TransferTotals = { guilds: 0, bytes: 0 }

  constructor (deps: HandoffSenderDeps) {
    this.#deps = deps
    for (const t of deps.journal.outgoing()) {
      this.#outgoing.set(t.guildId, t)
      this.#queue.set(t.guildId, deps.storage.size(t.guildId))
    }
  }

  /** The guild must not be accepted here: it is on its way out. */
  leaving (guildId: GuildId): boolean {
    return this.#outgoing.has(guildId) || this.#fencing.has(guildId)
  }

  /** Nothing left to send or drain: part of what `clean` means to peers. */
  get idle (): boolean { return this.#queue.size === 0 && this.#fencing.size === 0 && this.#outgoing.size === 0 }

  /** Guilds and bytes still to send, and to which pods. */
  pending (): { guilds: number, bytes: number, to: Record<string, number> } {
    let bytes = 0
    const to: Record<string, number> = {}
    for (const [guildId, size] of this.#queue) {
      bytes += size
      const dest = this.#outgoing.get(guildId)?.to ?? this.#deps.owner(guildId)
      if (dest !== this.#deps.ordinal) to[dest] = (to[dest] ?? 0) + 1
    }
    return { guilds: this.#queue.size, bytes, to }
  }

  /** Queues every guild held or running here that this pod does not own under its topology now. */
  review (): void {
    const { ordinal, owner, storage, leases } = this.#deps
    for (const guildId of storage.list()) if (owner(guildId) !== ordinal) this.enqueue(guildId)
    for (const guildId of leases.guilds()) if (owner(guildId) !== ordinal) this.enqueue(guildId)
    this.pump()
  }

  enqueue (guildId: GuildId): void {
    if (!this.#queue.has(guildId)) this.#queue.set(guildId, this.#deps.storage.has(guildId) ? this.#deps.storage.size(guildId) : 0)
  }

  /** Runs passes until the queue is empty or nothing more can be done now; the caller calls it again on the next tick. */
  pump (): void {
    if (this.#closed) return
    if (this.#running) {
      this.#again = true
      return
    }
    this.#running = true
    void this.#pass().finally(() => {
      this.#running = false
      if (this.#again) {
        this.#again = false
        this.pump()
      }
    })
  }

  async #pass (): Promise<void> {
    const guilds = [...this.#queue.keys()]
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < guilds.length && !this.#closed) {
        const guildId = guilds[next++]!
        try {
          await this.#handOff(guildId)
        } catch (err) {
          this.lastError = `guild ${guildId}: ${(err as Error).message}`
        }
      }
    }
    await Promise.all(Array.from({ length: PARALLEL }, worker))
  }

  async #handOff (guildId: GuildId): Promise<void> {
    const { ordinal, owner, storage, journal, leases } = this.#deps
    let transfer = this.#outgoing.get(guildId)
    if (transfer === undefined) {
      if (owner(guildId) === ordinal) {
        this.#queue.delete(guildId) // given back before the point of no return: it simply stays
        return
      }
      if (!this.#deps.agrees(owner(guildId))) {
        this.lastError = `guild ${guildId}: pod ${owner(guildId)} does not hold this pod's topology yet, or is not Ready`
        return
      }
      this.#fencing.add(guildId)
      try {
        await leases.drained(guildId)
        const to = owner(guildId)
        if (to === ordinal || !storage.has(guildId)) {
          // Given back while draining, or never written here: nothing to send.
          this.#queue.delete(guildId)
          return
        }
        transfer = { guildId, to, transferId: randomUUID() }
        journal.addOutgoing(transfer)
        this.#outgoing.set(guildId, transfer)
      } finally {
        this.#fencing.delete(guildId)
      }
    }
    const base = this.#deps.peerUrl(transfer.to)
    if (base === undefined) {
      this.lastError = `guild ${guildId}: pod ${transfer.to} has not answered on the peer list yet`
      return
    }
    const bytes = await storage.export(guildId)
    const res = await request(`${base}${handoffPath(guildId)}`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/octet-stream',
        [TRANSFER_HEADERS.id]: transfer.transferId,
        [TRANSFER_HEADERS.sha256]: createHash('sha256').update(bytes).digest('hex'),
        [TRANSFER_HEADERS.from]: String(ordinal)
      },
      body: bytes,
      headersTimeout: this.#deps.timeoutMs,
      bodyTimeout: this.#deps.timeoutMs
    })
    const answer = await res.body.text()
    if (res.statusCode !== 200) {
      this.lastError = `guild ${guildId} → pod ${transfer.to}: ${res.statusCode} ${answer.slice(0, 300)}`
      this.#deps.log({ msg: 'handoff refused', guildId, to: transfer.to, status: res.statusCode, answer: answer.slice(0, 300) })
      return
    }
    // Confirmed: the receiver has the copy on disk. Only now may ours go.
    await storage.remove(guildId)
    journal.removeOutgoing(guildId)
    this.#outgoing.delete(guildId)
    this.#queue.delete(guildId)
    this.sent.guilds++
    this.sent.bytes += bytes.length
    this.#deps.log({ msg: 'handoff sent', guildId, to: transfer.to, bytes: bytes.length, transferId: transfer.transferId })
  }

  close (): void { this.#closed = true }
}
