import { seededSnowflakes } from '../service/routing/snowflakes'
import { STRATEGY_NAMES, strategy } from '../service/routing/strategies'

/**
 * The cost of one routing decision per strategy, in ns/op: a microbenchmark
 * over 200k pre-generated guild ids, best of 5 runs (least disturbed).
 */
export function measureStrategyCost (pods = 16, runs = 5): Array<{ strategy: string, nsPerOp: number }> {
  const ids = [...seededSnowflakes(200_000, 42n)]
  return STRATEGY_NAMES.map(name => {
    const pick = strategy(name).pick
    let sink = 0
    for (const id of ids.slice(0, 20_000)) sink += pick(id, pods) // warm-up: let the JIT settle
    let best = Number.POSITIVE_INFINITY
    for (let r = 0; r < runs; r++) {
      const t0 = process.hrtime.bigint()
      for (const id of ids) sink += pick(id, pods)
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / ids.length)
    }
    if (sink < 0) throw new Error('unreachable') // keeps the loop from being optimised away
    return { strategy: name, nsPerOp: best }
  })
}

if (require.main === module) {
  for (const r of measureStrategyCost()) process.stdout.write(`${r.strategy.padEnd(14)} ${r.nsPerOp.toFixed(0)} ns/op\n`)
}
