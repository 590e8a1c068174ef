import { seededSnowflakes } from '../../service/routing/snowflakes'
import { strategy, type StrategyName } from '../../service/routing/strategies'

/** The first synthetic guild id that `name` routes to `pod` of `numPods`. */
export function guildOwnedBy (pod: number, numPods: number, name: StrategyName = 'md5-mod', seed = 99n): string {
  const pick = strategy(name).pick
  for (const id of seededSnowflakes(10_000, seed)) {
    if (pick(id, numPods) === pod) return id
  }
  throw new Error(`no guild for pod ${pod}`)
}
