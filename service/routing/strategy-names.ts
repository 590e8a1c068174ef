/**
 * The strategies by name, apart from their code: the Pulumi program validates
 * and writes topology files with these, and runs under the engine's own
 * TypeScript settings, which the hashing code (BigInt) does not compile under.
 */
export type StrategyName = 'md5-mod' | 'jump' | 'discord-shard'
export const STRATEGY_NAMES: readonly StrategyName[] = ['md5-mod', 'jump', 'discord-shard']

export function isStrategyName (name: string): name is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(name)
}
