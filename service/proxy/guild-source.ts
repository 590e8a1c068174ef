import { ConflictingGuildIdError, InvalidGuildIdError } from '../errors'
import { clip, guildIdProblem, type GuildId } from '../routing/guild-id'
import { topLevelValues } from './json-members'

/**
 * Where a request can name its guild, highest precedence first. The body
 * comes last because reading it costs a buffer; it is read only when it is
 * JSON, and then checked against the other sources like any of them.
 */
export type GuildSource = 'header x-guild-id' | 'path /guilds/<id>' | 'query guild_id' | 'body guild_id'

export interface FoundGuild {
  readonly id: GuildId
  readonly source: GuildSource
}

const PATH_MARKER = '/guilds/'

/**
 * The guild named by the header, the path and the query, or undefined when
 * none names one. Every source present must be a canonical snowflake and all
 * must agree: a request that names two guilds is a client bug we surface
 * rather than guess at.
 */
export function guildFromRequestLine (url: string, header: string | undefined): FoundGuild | undefined {
  // Node joins repeated unknown headers with ", ", which then fails the digit check.
  let found = header === undefined ? undefined : agreeing(undefined, header, 'header x-guild-id')

  const queryAt = url.indexOf('?')
  const path = queryAt === -1 ? url : url.slice(0, queryAt)
  // Every /guilds/<id> segment counts: a gateway's router may match the
  // second one, so two different ids are a conflict, not a choice.
  let at = path.indexOf(PATH_MARKER)
  while (at !== -1) {
    const start = at + PATH_MARKER.length
    const end = path.indexOf('/', start)
    const segment = end === -1 ? path.slice(start) : path.slice(start, end)
    if (segment !== '') found = agreeing(found, segment, 'path /guilds/<id>')
    at = end === -1 ? -1 : path.indexOf(PATH_MARKER, end)
  }

  // Cheap substring test first: most requests have no query or no guild_id.
  // Stryker disable next-line ConditionalExpression,StringLiteral,LogicalOperator: equivalent, the includes() test only saves parsing a query that has no guild_id (and an origin-form path, which starts with /, never reads as one)
  if (queryAt !== -1 && url.includes('guild_id', queryAt)) {
    for (const value of new URLSearchParams(url.slice(queryAt + 1)).getAll('guild_id')) {
      found = agreeing(found, value, 'query guild_id')
    }
  }
  return found
}

/** `raw` as the guild, if it is a canonical snowflake and agrees with what was found before. */
function agreeing (found: FoundGuild | undefined, raw: string, source: GuildSource): FoundGuild {
  const problem = guildIdProblem(raw)
  if (problem !== undefined) throw new InvalidGuildIdError(source, `${JSON.stringify(clip(raw))} ${problem}`)
  if (found === undefined) return { id: raw, source }
  if (found.id !== raw) throw new ConflictingGuildIdError(found, { id: raw, source })
  return found
}

/** `/api/v10/guilds/123/members` → "123"; undefined when no such segment. */
export function segmentAfterGuilds (path: string): string | undefined {
  const at = path.indexOf(PATH_MARKER)
  if (at === -1) return undefined
  const start = at + PATH_MARKER.length
  const end = path.indexOf('/', start)
  const segment = end === -1 ? path.slice(start) : path.slice(start, end)
  return segment === '' ? undefined : segment
}

/**
 * The top-level `guild_id` of a JSON body (Discord HTTP interactions), or
 * undefined when the body is not a JSON object or has none (a DM or a PING).
 * The caller forwards the original bytes; this only reads a copy.
 */
export function guildFromJsonBody (body: Buffer): GuildId | undefined {
  // Most bodies can be ruled out without parsing. A backslash may spell the
  // key with escapes ("guild\u005fid"), which JSON.parse would still read.
  // Stryker disable next-line StringLiteral: equivalent, these three lines only spare JSON.parse a body that cannot name a guild
  const firstName = body.indexOf('guild_id')
  // Stryker disable next-line ConditionalExpression,UnaryOperator: equivalent, as above
  const escaped = body.indexOf(0x5c) !== -1
  // Stryker disable next-line ConditionalExpression,UnaryOperator: equivalent, as above
  if (firstName === -1 && !escaped) return undefined
  const text = body.toString('utf8')
  let parsed: unknown
  // Stryker disable BlockStatement: equivalent, with an empty catch the next check returns undefined for the unset value
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  // Stryker restore BlockStatement
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent here, a primitive or an array has no guild_id member, and no body that passes the filter above parses to null; the check says what is meant
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined
  // JSON.parse keeps the last of repeated names; a gateway's parser may keep
  // the first. Only a body that spells the name twice (or escapes it) is scanned.
  // Stryker disable next-line ConditionalExpression,StringLiteral,UnaryOperator: equivalent, scanning a body that names guild_id once finds one value; the test only spares the scan
  if (escaped || body.indexOf('guild_id', firstName + 8) !== -1) disagreeingRepeats(text)
  const value = (parsed as Record<string, unknown>).guild_id
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') {
    // Snowflakes exceed 2^53: a JSON number has already lost digits.
    throw new InvalidGuildIdError('body guild_id', `must be a JSON string, got ${typeof value}`)
  }
  const problem = guildIdProblem(value)
  if (problem !== undefined) throw new InvalidGuildIdError('body guild_id', `${JSON.stringify(clip(value))} ${problem}`)
  return value
}

/** Throws when the body's top-level `guild_id` members do not all have the same value. */
function disagreeingRepeats (text: string): void {
  // Compared as JSON.parse reads them, so "1\u0032" and "12" agree.
  const values = topLevelValues(text, 'guild_id').map(raw => JSON.stringify(JSON.parse(raw)))
  for (const value of values) {
    if (value !== values[0]) {
      throw new ConflictingGuildIdError({ id: clip(values[0] as string), source: 'body guild_id' }, { id: clip(value), source: 'a repeated body guild_id' })
    }
  }
}
