import type { GuildId } from './guild-id'

/**
 * Realistic synthetic guild ids for plans, tests and load runs: a Discord
 * snowflake is (ms since 2015-01-01) << 22 | worker, process and counter bits.
 * Deterministic for a seed (SplitMix64), so a plan printed twice is the same.
 */
export function * seededSnowflakes (count: number, seed = 1n): Generator<GuildId> {
  let state = BigInt.asUintN(64, seed)
  for (let i = 0; i < count; i++) {
    state = BigInt.asUintN(64, state + 0x9E3779B97F4A7C15n)
    let z = state
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n)
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94D049BB133111EBn)
    z ^= z >> 31n
    // 2^39 ms is about 17 years past 2015: every snowflake issued so far and some to come.
    const timestamp = (z >> 25n) & ((1n << 39n) - 1n)
    const low = z & ((1n << 22n) - 1n)
    yield ((timestamp << 22n) | low).toString()
  }
}
