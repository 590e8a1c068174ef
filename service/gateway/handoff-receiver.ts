import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { GuildId } from '../routing/guild-id'
import { StorageError, type GuildStorage } from './guild-storage'
import type { HandoffJournal } from './handoff-journal'
import { TRANSFER_HEADERS } from './handoff-wire'
import type { TransferTotals } from './handoff-sender'

export interface ReceiveAnswer {
  readonly status: number
  readonly body: Record<string, unknown>
}

export interface HandoffReceiverDeps {
  readonly storage: GuildStorage
  readonly journal: HandoffJournal
  readonly maxGuildBytes: number
  /** Called once a guild has arrived: the pod may serve it, or must pass it on. */
  readonly onReceived: (guildId: GuildId) => void
  readonly log: (line: Record<string, unknown>) => void
}

const TRANSFER_ID = /^[0-9a-f-]{36}$/

/**
 * The receiving half of a handoff. It confirms (200) only once the copy is
 * complete, matches the sender's SHA-256, passes the storage's own check and
 * is on disk; the sender deletes its copy only then. A resend of a transfer
 * already received (its confirmation was lost) is confirmed again without
 * importing anything. A guild that already has data here is a conflict (409):
 * two copies must never be merged silently.
 */
export class HandoffReceiver {
  readonly #deps: HandoffReceiverDeps
  readonly #busy = new Set<GuildId>()
  readonly #arriving = new Map<GuildId, number>()
  readonly received: TransferTotals = { guilds: 0, bytes: 0 }

  constructor (deps: HandoffReceiverDeps) {
    this.#deps = deps
    // A crash between 'importing' and 'done': the rename either happened or not.
    for (const { transferId, guildId } of deps.journal.importing()) {
      if (deps.storage.has(guildId)) deps.journal.markReceived(transferId, guildId, 'done')
      else deps.journal.forgetReceived(transferId)
    }
  }

  /** Guilds and bytes arriving right now. */
  arriving (): TransferTotals {
    let bytes = 0
    for (const b of this.#arriving.values()) bytes += b
    return { guilds: this.#arriving.size, bytes }
  }

  async receive (guildId: GuildId, req: IncomingMessage): Promise<ReceiveAnswer> {
    const { storage, journal } = this.#deps
    const transferId = header(req, TRANSFER_HEADERS.id)
    const sha256 = header(req, TRANSFER_HEADERS.sha256)
    if (transferId === undefined || !TRANSFER_ID.test(transferId) || sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)) {
      req.resume()
      return refuse(400, 'invalid_transfer', `a handoff needs ${TRANSFER_HEADERS.id} (a UUID) and ${TRANSFER_HEADERS.sha256} (hex SHA-256)`)
    }
    const prior = journal.received(transferId)
    if (prior?.state === 'done') {
      req.resume()
      return { status: 200, body: { status: 'already_received', guildId, transferId } }
    }
    if (this.#busy.has(guildId)) {
      req.resume()
      return refuse(409, 'handoff_in_progress', `guild ${guildId} is being received already; send again later`)
    }
    this.#busy.add(guildId)
    try {
      const declared = Number(req.headers['content-length'] ?? 0)
      this.#arriving.set(guildId, declared)
      const bytes = await readBody(req, this.#deps.maxGuildBytes)
      if (bytes === undefined) return refuse(413, 'guild_too_large', `guild ${guildId} is over the ${this.#deps.maxGuildBytes}-byte limit of one handoff`)
      if (createHash('sha256').update(bytes).digest('hex') !== sha256) {
        return refuse(422, 'handoff_corrupt', `guild ${guildId}: the copy does not match its SHA-256; send it again`)
      }
      if (storage.has(guildId)) {
        return refuse(409, 'handoff_conflict', `guild ${guildId} already has data on this pod (transfer ${transferId} would replace it); an operator must decide which copy is the guild`)
      }
      journal.markReceived(transferId, guildId, 'importing')
      try {
        await storage.import(guildId, bytes)
      } catch (err) {
        journal.forgetReceived(transferId)
        if (err instanceof StorageError) return refuse(422, err.code, err.message)
        throw err
      }
      journal.markReceived(transferId, guildId, 'done')
      this.received.guilds++
      this.received.bytes += bytes.length
      this.#deps.log({ msg: 'handoff received', guildId, from: header(req, TRANSFER_HEADERS.from), bytes: bytes.length, transferId })
      this.#deps.onReceived(guildId)
      return { status: 200, body: { status: 'received', guildId, transferId, bytes: bytes.length } }
    } finally {
      this.#busy.delete(guildId)
      this.#arriving.delete(guildId)
    }
  }
}

function header (req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return typeof v === 'string' ? v : undefined
}

function refuse (status: number, error: string, message: string): ReceiveAnswer {
  return { status, body: { error, message } }
}

async function readBody (req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) {
      req.destroy()
      return undefined
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, size)
}
