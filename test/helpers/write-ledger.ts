import { randomUUID } from 'node:crypto'
import type { Entry } from '../../service/gateway/guild-entries'

/** What writers sent and what was acknowledged, per guild. */
export class WriteLedger {
  /** Every request id sent, with its body digest. */
  readonly sent = new Map<string, { guild: string, sha256: string }>()
  /** 201-acknowledged request ids per guild, with the seq the gateway gave. */
  readonly acked = new Map<string, Map<string, number>>()
  readonly outcomes = new Map<string, number>()

  count (key: string): void { this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1) }

  newId (): string { return randomUUID() }

  /**
   * Reads each guild from `read(guild)` and returns every violation found:
   * an acknowledged entry missing or stored twice, an entry nobody sent,
   * sequence numbers with a gap.
   */
  async audit (guilds: readonly string[], read: (guild: string) => Promise<Entry[]>): Promise<string[]> {
    const problems: string[] = []
    for (const guild of guilds) {
      const entries = await read(guild)
      const seen = new Map<string, number>()
      entries.forEach((e, i) => {
        if (e.seq !== i + 1) problems.push(`${guild}: entry ${i} has seq ${e.seq}`)
        seen.set(e.requestId, (seen.get(e.requestId) ?? 0) + 1)
        const sent = this.sent.get(e.requestId)
        if (sent === undefined || sent.guild !== guild || sent.sha256 !== e.sha256) problems.push(`${guild}: stored entry ${e.requestId} was never sent to it`)
      })
      for (const [id] of this.acked.get(guild) ?? []) {
        const n = seen.get(id) ?? 0
        if (n !== 1) problems.push(`${guild}: acknowledged entry ${id} stored ${n} times`)
      }
      for (const [id, n] of seen) if (n > 1 && !(this.acked.get(guild)?.has(id) ?? false)) problems.push(`${guild}: entry ${id} stored ${n} times`)
    }
    return problems
  }
}
