import { topologyVersion } from '../gateway/topology'
import type { GuildId } from './guild-id'
import type { RoutingStrategy } from './strategies'

/**
 * Synthetic guilds in a rescale preview without a file of real ids, for the
 * CLI and the admin port alike: enough for ±0.5% on the moved fraction, and
 * quick enough to hash on every request to the admin port.
 */
export const PLAN_SAMPLE_SIZE = 20_000

export interface RescalePlan {
  readonly strategy: string
  readonly from: number
  readonly to: number
  /** The topology versions of the two sides, as gateways and routers report them. */
  readonly fromVersion: string
  readonly toVersion: string
  readonly total: number
  readonly moved: number
  /** The least any strategy must move: |to - from| / max(from, to) of the guilds. */
  readonly minimumFraction: number
  /** "source→destination" → guild count, sorted by source then destination. */
  readonly flows: ReadonlyArray<{ readonly from: number, readonly to: number, readonly count: number }>
  /** Only when asked for: each guild that changes owner. */
  readonly movedIds?: ReadonlyArray<{ readonly guildId: GuildId, readonly from: number, readonly to: number }>
}

/**
 * Which guilds change owner when the gateway count goes from `from` to `to`:
 * the data that has to be migrated before the rescale takes traffic.
 */
export function planRescale (guildIds: Iterable<GuildId>, strat: RoutingStrategy, from: number, to: number,
  opts: { listIds?: boolean } = {}): RescalePlan {
  const flows = new Map<number, number>()
  // Collected only when asked for: a plan over a million real ids would
  // otherwise hold every moved one in memory for nothing.
  const movedIds: Array<{ guildId: GuildId, from: number, to: number }> | undefined = opts.listIds === true ? [] : undefined
  let total = 0
  let moved = 0
  for (const guildId of guildIds) {
    total++
    const a = strat.pick(guildId, from)
    const b = strat.pick(guildId, to)
    if (a === b) continue
    moved++
    const key = a * 1_000_000 + b
    flows.set(key, (flows.get(key) ?? 0) + 1)
    movedIds?.push({ guildId, from: a, to: b })
  }
  return {
    strategy: strat.name,
    from,
    to,
    fromVersion: topologyVersion({ strategy: strat.name, count: from }),
    toVersion: topologyVersion({ strategy: strat.name, count: to }),
    total,
    moved,
    minimumFraction: Math.abs(to - from) / Math.max(from, to),
    flows: [...flows.entries()].sort(([x], [y]) => x - y)
      .map(([key, count]) => ({ from: Math.floor(key / 1_000_000), to: key % 1_000_000, count })),
    ...(movedIds !== undefined ? { movedIds } : {})
  }
}
