import { InvalidGuildIdError } from '../errors'

/**
 * A guild id is a Discord snowflake: an unsigned 64-bit integer sent as a
 * decimal string. Only the canonical spelling is accepted, because the
 * strategies hash the *string*: "0123" and "123" would otherwise name the same
 * guild and route to different pods.
 */
export type GuildId = string

const CANONICAL = /^(?:0|[1-9][0-9]{0,19})$/
const MAX_U64 = '18446744073709551615'

/** Why `raw` is not a canonical snowflake, or undefined when it is. */
export function guildIdProblem (raw: string): string | undefined {
  if (raw.length === 0) return 'is empty'
  if (!CANONICAL.test(raw)) {
    if (/^[0-9]+$/.test(raw)) {
      return raw.length > 20 ? 'has more than 20 digits' : 'has a leading zero (not canonical)'
    }
    return 'must be decimal digits only (no sign, space or other characters)'
  }
  // Twenty digits can exceed 2^64-1; equal-length decimal strings compare like numbers.
  if (raw.length === 20 && raw > MAX_U64) return 'exceeds 2^64-1'
  return undefined
}

export function isGuildId (raw: string): raw is GuildId {
  return guildIdProblem(raw) === undefined
}

/** Returns `raw` as a GuildId or throws InvalidGuildIdError naming `source`. */
export function parseGuildId (raw: string, source = 'input'): GuildId {
  const problem = guildIdProblem(raw)
  if (problem !== undefined) throw new InvalidGuildIdError(source, `${JSON.stringify(clip(raw))} ${problem}`)
  return raw
}

/** Client input quoted in an error message, cut so a huge value cannot bloat the answer or the log. */
export function clip (s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s
}
