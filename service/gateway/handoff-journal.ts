import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import type { GuildId } from '../routing/guild-id'

export interface OutgoingTransfer {
  readonly guildId: GuildId
  /** Fixed when the guild is fenced: a resend after a crash goes to the same pod, whatever the topology says by then. */
  readonly to: number
  readonly transferId: string
}

/**
 * What a gateway must remember across a crash to keep a handoff safe and
 * idempotent, in a small SQLite file of its own beside the guilds' data:
 * - the horizon (the largest pod count since the pod last settled);
 * - the topology version it settled at, cleared when it loads another, so a
 *   restart that reads the same topology resumes settled;
 * - guilds it is sending, each with its destination and transfer id: the
 *   point of no return, after which the guild is only ever resent there;
 * - transfers it received, so a resend whose confirmation was lost is
 *   confirmed again instead of imported twice.
 * Every write is one autocommitted statement with `synchronous=FULL`: on disk
 * before the protocol acts on it.
 */
export class HandoffJournal {
  readonly #db: DatabaseSync

  constructor (dir: string) {
    mkdirSync(dir, { recursive: true })
    this.#db = new DatabaseSync(join(dir, 'handoff-journal.sqlite'))
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS outgoing (guild TEXT PRIMARY KEY, to_ordinal INTEGER NOT NULL, transfer_id TEXT NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS received (transfer_id TEXT PRIMARY KEY, guild TEXT NOT NULL, state TEXT NOT NULL) STRICT;
    `)
  }

  get horizon (): number | undefined {
    const row = this.#db.prepare('SELECT value FROM meta WHERE key = ?').get('horizon') as { value: string } | undefined
    return row === undefined ? undefined : Number(row.value)
  }

  set horizon (value: number) {
    this.#db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run('horizon', String(value))
  }

  get settledVersion (): string | undefined {
    const row = this.#db.prepare('SELECT value FROM meta WHERE key = ?').get('settled') as { value: string } | undefined
    return row?.value
  }

  set settledVersion (value: string | undefined) {
    if (value === undefined) this.#db.prepare('DELETE FROM meta WHERE key = ?').run('settled')
    else this.#db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run('settled', value)
  }

  outgoing (): OutgoingTransfer[] {
    return (this.#db.prepare('SELECT guild, to_ordinal, transfer_id FROM outgoing').all() as Array<{ guild: string, to_ordinal: number, transfer_id: string }>)
      .map(r => ({ guildId: r.guild, to: r.to_ordinal, transferId: r.transfer_id }))
  }

  addOutgoing (t: OutgoingTransfer): void {
    this.#db.prepare('INSERT INTO outgoing (guild, to_ordinal, transfer_id) VALUES (?, ?, ?)').run(t.guildId, t.to, t.transferId)
  }

  removeOutgoing (guildId: GuildId): void {
    this.#db.prepare('DELETE FROM outgoing WHERE guild = ?').run(guildId)
  }

  /** 'importing' is written before the guild's file is put in place, 'done' after. */
  received (transferId: string): { guildId: GuildId, state: 'importing' | 'done' } | undefined {
    const row = this.#db.prepare('SELECT guild, state FROM received WHERE transfer_id = ?').get(transferId) as { guild: string, state: 'importing' | 'done' } | undefined
    return row === undefined ? undefined : { guildId: row.guild, state: row.state }
  }

  importing (): Array<{ transferId: string, guildId: GuildId }> {
    return (this.#db.prepare("SELECT transfer_id, guild FROM received WHERE state = 'importing'").all() as Array<{ transfer_id: string, guild: string }>)
      .map(r => ({ transferId: r.transfer_id, guildId: r.guild }))
  }

  markReceived (transferId: string, guildId: GuildId, state: 'importing' | 'done'): void {
    this.#db.prepare('INSERT INTO received (transfer_id, guild, state) VALUES (?, ?, ?) ON CONFLICT (transfer_id) DO UPDATE SET state = excluded.state').run(transferId, guildId, state)
  }

  forgetReceived (transferId: string): void {
    this.#db.prepare('DELETE FROM received WHERE transfer_id = ?').run(transferId)
  }

  close (): void {
    if (this.#db.isOpen) this.#db.close()
  }
}
