import { digestHead32, digestHead64 } from './digest'
import type { GuildId } from './guild-id'
import type { StrategyName } from './strategy-names'

/**
 * A strategy names the owner pod of a guild from the guild id and the pod
 * count alone. Nothing else may go in: every router replica must name the same
 * owner for the same guild without talking to the others.
 */
export interface RoutingStrategy {
  readonly name: StrategyName
  /** The owner's ordinal in [0, numPods). */
  pick (guildId: GuildId, numPods: number): number
}

export { isStrategyName, STRATEGY_NAMES, type StrategyName } from './strategy-names'

/** The original design: first 4 digest bytes, big-endian, modulo N. */
export function md5Mod (guildId: GuildId, numPods: number): number {
  return digestHead32(guildId) % numPods
}

const JUMP_MULTIPLIER = 2862933555777941757n
const TWO_POW_31 = 2147483648

/**
 * Jump Consistent Hash (Lamping & Veach 2014, arXiv:1406.2294). From N to N+1
 * buckets a key either stays or moves to bucket N — which is exactly how a
 * StatefulSet scales, by adding or removing its highest ordinal.
 *
 * The key state needs exact 64-bit wrap-around, so it is a BigInt. The
 * division is done in doubles, as in the paper's C++; `(key >> 33) + 1` is at
 * most 2^31, so the conversion to a double is exact and results match it bit
 * for bit.
 */
export function jumpHash (key: bigint, numBuckets: number): number {
  // Stryker disable next-line UnaryOperator: every caller passes numBuckets >= 1 (the config refuses fewer pods), so the loop runs and overwrites b before it is returned
  let b = -1
  let j = 0
  let k = key
  while (j < numBuckets) {
    b = j
    k = BigInt.asUintN(64, k * JUMP_MULTIPLIER + 1n)
    j = Math.floor((b + 1) * (TWO_POW_31 / (Number(k >> 33n) + 1)))
  }
  return b
}

/** Jump hash keyed by the first 8 digest bytes, big-endian. */
export function jump (guildId: GuildId, numPods: number): number {
  return jumpHash(digestHead64(guildId), numPods)
}

/**
 * Discord's gateway shard formula, `(guild_id >> 22) % num_shards`: with pod n
 * running shard n of N, a guild's HTTP traffic lands where its events arrive.
 */
export function discordShard (guildId: GuildId, numPods: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(numPods))
}

const PICKERS: Record<StrategyName, (guildId: GuildId, numPods: number) => number> = {
  'md5-mod': md5Mod,
  jump,
  'discord-shard': discordShard
}

export function strategy (name: StrategyName): RoutingStrategy {
  const pick = PICKERS[name]
  return Object.freeze({ name, pick })
}
