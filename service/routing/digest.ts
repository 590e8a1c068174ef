import { createHash } from 'node:crypto'
import type { GuildId } from './guild-id'

/**
 * MD5 of the guild id's decimal string. MD5 is not used for security here: it
 * is the original design's hash, kept so every router and gateway ever deployed
 * agrees, and it mixes snowflakes well (their low bits are worker and counter
 * fields, far from uniform).
 */
export function guildDigest (guildId: GuildId): Buffer {
  return createHash('md5').update(guildId, 'latin1').digest()
}
