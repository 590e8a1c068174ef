import type { GuildId } from '../routing/guild-id'

/**
 * The peer port's paths. They are served only there: routers never dial that
 * port, and the NetworkPolicy admits only gateway pods to it, so no client of
 * the bot can read, confirm or delete a guild's data through the router.
 */
export const PEER_PATHS = Object.freeze({
  topology: '/topology',
  handoff: '/handoff/guilds/',
  operator: '/operator/guilds/'
})

export const TRANSFER_HEADERS = Object.freeze({
  /** Chosen by the sender when it fences the guild; a resend carries the same one. */
  id: 'x-transfer-id',
  sha256: 'x-content-sha256',
  from: 'x-from-ordinal'
})

export function handoffPath (guildId: GuildId): string {
  return `${PEER_PATHS.handoff}${guildId}`
}

/** The operator's command for a guild whose data is gone with a lost volume. */
export function startEmptyPath (guildId: GuildId): string {
  return `${PEER_PATHS.operator}${guildId}/start-empty`
}

/** True for a path that belongs on the peer port only (handoffs, the operator's commands). */
export function isPeerOnlyPath (url: string): boolean {
  const path = url.split('?', 1)[0]!.toLowerCase()
  return path.startsWith(PEER_PATHS.handoff) || path.startsWith(PEER_PATHS.operator) ||
    path === PEER_PATHS.handoff.slice(0, -1) || path === PEER_PATHS.operator.slice(0, -1)
}
