import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { isGuildId, type GuildId } from '../routing/guild-id'
import { StorageError, type GuildStorage } from './guild-storage'

const SUFFIX = '.sqlite'
/** Open guild databases kept at once: each holds file descriptors (the file, its WAL and shared memory). */
const MAX_OPEN = 256

/**
 * One SQLite file per guild under `<dir>/guilds/`, with Node's built-in
 * `node:sqlite`: the layout the reference gateway uses, and the storage hooks
 * the ownership protocol needs to move a guild. `schema` runs on every open
 * (CREATE TABLE IF NOT EXISTS …). Files are in WAL mode with
 * `synchronous=FULL`, so a committed write survives a crash.
 */
export class SqliteGuildStore implements GuildStorage {
  readonly #dir: string
  readonly #incoming: string
  readonly #schema: string
  /** Guilds with a file here: kept in memory so ownership checks never touch the disk. */
  readonly #present = new Set<GuildId>()
  readonly #open = new Map<GuildId, DatabaseSync>()

  constructor (dataDir: string, schema: string) {
    this.#dir = join(dataDir, 'guilds')
    this.#incoming = join(dataDir, 'incoming')
    this.#schema = schema
    mkdirSync(this.#dir, { recursive: true })
    // A copy half-received when the process died: the sender sends it again.
    mkdirSync(this.#incoming, { recursive: true })
    for (const name of readdirSync(this.#incoming)) void rm(join(this.#incoming, name), { force: true })
    for (const name of readdirSync(this.#dir)) {
      const id = name.endsWith(SUFFIX) ? name.slice(0, -SUFFIX.length) : ''
      if (isGuildId(id)) this.#present.add(id)
    }
  }

  #path (guildId: GuildId): string { return join(this.#dir, `${guildId}${SUFFIX}`) }

  list (): GuildId[] { return [...this.#present] }
  has (guildId: GuildId): boolean { return this.#present.has(guildId) }

  size (guildId: GuildId): number {
    try {
      return statSync(this.#path(guildId)).size
    } catch {
      return 0
    }
  }

  /** The guild's database, created on first use. Only for a guild the protocol accepted. */
  open (guildId: GuildId): DatabaseSync {
    let db = this.#open.get(guildId)
    if (db === undefined) {
      db = new DatabaseSync(this.#path(guildId))
      db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; ${this.#schema}`)
      this.#present.add(guildId)
      // Closing the least recently used is safe: node:sqlite is synchronous, so no request holds a handle across an await.
      if (this.#open.size >= MAX_OPEN) this.#close(this.#open.keys().next().value!)
    } else {
      this.#open.delete(guildId) // re-inserted below: the Map's order is the recency order
    }
    this.#open.set(guildId, db)
    return db
  }

  createEmpty (guildId: GuildId): void { this.open(guildId) }

  #close (guildId: GuildId): void {
    const db = this.#open.get(guildId)
    this.#open.delete(guildId)
    // Closing the last connection checkpoints the WAL into the main file and
    // deletes it, so the file alone is the whole guild.
    db?.close()
  }

  async export (guildId: GuildId): Promise<Uint8Array> {
    // Open before closing even if no request opened it in this process: after
    // a crash, committed writes may still be only in the -wal file, and the
    // close is what moves them into the file that is sent.
    this.open(guildId)
    this.#close(guildId)
    return await readFile(this.#path(guildId))
  }

  async import (guildId: GuildId, bytes: Uint8Array): Promise<void> {
    if (this.#present.has(guildId)) throw new StorageError('guild_exists', `guild ${guildId} already has data on this pod`)
    const aside = join(this.#incoming, `${guildId}-${process.hrtime.bigint()}${SUFFIX}`)
    try {
      await writeFile(aside, bytes, { flush: true })
      checkDatabase(aside, guildId)
      await rename(aside, this.#path(guildId))
    } catch (err) {
      await rm(aside, { force: true })
      throw err
    }
    syncDirectory(this.#dir)
    this.#present.add(guildId)
  }

  async remove (guildId: GuildId): Promise<void> {
    this.#close(guildId)
    const path = this.#path(guildId)
    await Promise.all([rm(path, { force: true }), rm(`${path}-wal`, { force: true }), rm(`${path}-shm`, { force: true })])
    syncDirectory(this.#dir)
    this.#present.delete(guildId)
  }

  close (): void {
    for (const id of [...this.#open.keys()]) this.#close(id)
  }
}

function checkDatabase (path: string, guildId: GuildId): void {
  let db: DatabaseSync | undefined
  try {
    db = new DatabaseSync(path)
    const rows = db.prepare('PRAGMA quick_check').all() as Array<Record<string, unknown>>
    const verdict = rows.map(r => String(Object.values(r)[0])).join('; ')
    if (verdict !== 'ok') throw new StorageError('handoff_corrupt', `guild ${guildId}: the received copy fails SQLite's quick_check: ${verdict}`)
  } catch (err) {
    if (err instanceof StorageError) throw err
    throw new StorageError('handoff_corrupt', `guild ${guildId}: the received copy is not a SQLite database (${(err as Error).message})`, { cause: err })
  } finally {
    db?.close()
  }
}

/** A rename is durable only once its directory is. */
function syncDirectory (dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
