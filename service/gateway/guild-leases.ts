import type { GuildId } from '../routing/guild-id'

/**
 * Requests a gateway is running, per guild. A guild is handed off only once
 * its count is zero, so the old owner's last request ends before the new
 * owner's first begins: ownership is an interval, not an instant.
 */
export class GuildLeases {
  readonly #running = new Map<GuildId, number>()
  readonly #waiters = new Map<GuildId, Array<() => void>>()

  begin (guildId: GuildId): void {
    this.#running.set(guildId, (this.#running.get(guildId) ?? 0) + 1)
  }

  end (guildId: GuildId): void {
    const n = (this.#running.get(guildId) ?? 0) - 1
    if (n > 0) {
      this.#running.set(guildId, n)
      return
    }
    this.#running.delete(guildId)
    const waiters = this.#waiters.get(guildId)
    // Stryker disable next-line CallExpression: without it only memory grows (a woken list is never woken again: resolving a settled promise does nothing), which no test can see
    this.#waiters.delete(guildId)
    for (const wake of waiters ?? []) wake()
  }

  running (guildId: GuildId): number { return this.#running.get(guildId) ?? 0 }

  guilds (): GuildId[] { return [...this.#running.keys()] }

  /** Resolves once no request runs for the guild. */
  async drained (guildId: GuildId): Promise<void> {
    if (!this.#running.has(guildId)) return
    await new Promise<void>(resolve => {
      const list = this.#waiters.get(guildId) ?? []
      list.push(resolve)
      this.#waiters.set(guildId, list)
    })
  }
}
