import { md5 } from 'js-md5'
import type { GuildId } from './guild-id'

/*
 * The keys the strategies take from the MD5 of the guild id's decimal
 * string. MD5 is not used for security here: it is the original design's
 * hash, kept so every router and gateway ever deployed agrees, and it mixes
 * snowflakes well (their low bits are worker and counter fields, far from
 * uniform).
 *
 * js-md5 rather than node:crypto: for a 17–20 byte id, the native hash is
 * mostly the cost of crossing into C++ and allocating its output (md5-mod
 * 1.02 µs per id against 0.23 µs, `node dist/bench/strategy-cost.js`), and
 * the router hashes every request. The golden vectors (test/fixtures, from
 * Python's hashlib) pin the two as equal.
 */

/** The digest's first 4 bytes, big-endian: md5-mod's key. */
export function digestHead32 (guildId: GuildId): number {
  const d = md5.array(guildId)
  return (((d[0] as number) << 24) | ((d[1] as number) << 16) | ((d[2] as number) << 8) | (d[3] as number)) >>> 0
}

/** The digest's first 8 bytes, big-endian: jump's key. */
export function digestHead64 (guildId: GuildId): bigint {
  const d = md5.array(guildId)
  const high = (((d[0] as number) << 24) | ((d[1] as number) << 16) | ((d[2] as number) << 8) | (d[3] as number)) >>> 0
  const low = (((d[4] as number) << 24) | ((d[5] as number) << 16) | ((d[6] as number) << 8) | (d[7] as number)) >>> 0
  return (BigInt(high) << 32n) | BigInt(low)
}
