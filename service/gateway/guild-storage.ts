import type { GuildId } from '../routing/guild-id'

/**
 * The storage hooks a gateway gives the ownership protocol, so a guild's data
 * moves with the guild. The protocol calls `export` only for a guild no
 * request is using and none will use (it has fenced and drained it), and
 * `remove` only after the new owner has confirmed it stored the copy.
 * `SqliteGuildStore` implements them for one SQLite file per guild.
 */
export interface GuildStorage {
  /** Guilds with data on this pod. Called once at start. */
  list (): GuildId[]
  /** Whether this pod has data for the guild. Called on every request, so it must not touch the disk. */
  has (guildId: GuildId): boolean
  /** Bytes the guild takes, for progress reports. */
  size (guildId: GuildId): number
  /** A consistent, self-contained copy of the guild's data. */
  export (guildId: GuildId): Promise<Uint8Array>
  /**
   * Makes `bytes` (from another pod's `export`, already checked against its
   * digest) this guild's data: durably, and all at once (write aside, then
   * rename), so a crash leaves either no guild or the whole copy. Throws a
   * StorageError if the bytes are not a valid guild.
   */
  import (guildId: GuildId, bytes: Uint8Array): Promise<void>
  /** Deletes this pod's copy. */
  remove (guildId: GuildId): Promise<void>
  /** Creates an empty guild: only ever on the operator's explicit command. */
  createEmpty (guildId: GuildId): void
}

export class StorageError extends Error {
  readonly code: string
  constructor (code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'StorageError'
    this.code = code
  }
}
