import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { guildIdProblem } from './routing/guild-id'
import { PLAN_SAMPLE_SIZE, planRescale, type RescalePlan } from './routing/rescale-plan'
import { seededSnowflakes } from './routing/snowflakes'
import { isStrategyName, STRATEGY_NAMES, strategy, type StrategyName } from './routing/strategies'

const USAGE = `usage:
  guild-router route [--pods N] [--strategy S] <guildId>...
      prints each guild's owner pod (N defaults to $NUM_GATEWAY_PODS)
  guild-router plan --from N --to M [--strategy S] [--ids] [file-of-guild-ids]
      prints how many guilds change owner and between which pods; with a file
      (one id per line) counts those guilds exactly, otherwise a fixed sample
      of ${PLAN_SAMPLE_SIZE.toLocaleString('en')} synthetic snowflakes. --ids lists every id that moves.
strategies: ${STRATEGY_NAMES.join(', ')} (default $ROUTING_STRATEGY or md5-mod)`

export class UsageError extends Error {}

/** Input the command was pointed at but could not use: one line, no usage text. */
export class InputError extends Error {}

/** Runs the CLI; returns the exit code. Output goes through `out`/`err` so tests can read it. */
export function runCli (argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, err: (s: string) => void): number {
  try {
    const [command, ...rest] = argv
    if (command === 'route') return route(rest, env, out, err)
    if (command === 'plan') return plan(rest, env, out)
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      out(`${USAGE}\n`)
      return command === undefined ? 2 : 0
    }
    throw new UsageError(`unknown command ${JSON.stringify(command)}`)
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      err(`guild-router: ${(e as Error).message}\n${USAGE}\n`)
      return 2
    }
    if (e instanceof InputError) {
      err(`guild-router: ${e.message}\n`)
      return 1
    }
    throw e
  }
}

function route (args: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, err: (s: string) => void): number {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, options: { pods: { type: 'string' }, strategy: { type: 'string' } }
  })
  const pods = count('--pods', values.pods ?? (env.NUM_GATEWAY_PODS === '' ? undefined : env.NUM_GATEWAY_PODS))
  const strat = strategy(strategyOf(values.strategy ?? env.ROUTING_STRATEGY))
  if (positionals.length === 0) throw new UsageError('route needs at least one guild id')
  let failed = 0
  for (const id of positionals) {
    const problem = guildIdProblem(id)
    if (problem !== undefined) {
      err(`${id}\tinvalid_guild_id: ${problem}\n`)
      failed++
    } else {
      out(`${id}\t${strat.pick(id, pods)}\n`)
    }
  }
  return failed === 0 ? 0 : 1
}

function plan (args: string[], env: NodeJS.ProcessEnv, out: (s: string) => void): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' }, strategy: { type: 'string' }, ids: { type: 'boolean' } }
  })
  const from = count('--from', values.from)
  const to = count('--to', values.to)
  const strat = strategy(strategyOf(values.strategy ?? env.ROUTING_STRATEGY))
  const file = positionals[0]
  const ids = file === undefined ? seededSnowflakes(PLAN_SAMPLE_SIZE) : readIds(file)
  const result = planRescale(ids, strat, from, to, { listIds: values.ids === true && file !== undefined })
  out(formatPlan(result, file === undefined ? `a sample of ${PLAN_SAMPLE_SIZE} synthetic snowflakes` : file))
  return 0
}

export function formatPlan (p: RescalePlan, what: string): string {
  const pct = (n: number): string => `${(100 * n).toFixed(2)}%`
  const lines = [
    `rescale ${p.from} → ${p.to} pods, strategy ${p.strategy}, ${p.total} guilds (${what})`,
    `topology ${p.fromVersion} → ${p.toVersion}: gateways holding ${p.toVersion} take moved guilds once every gateway holds it`,
    `move: ${p.moved} of ${p.total} (${pct(p.total === 0 ? 0 : p.moved / p.total)}); the least possible is ${pct(p.minimumFraction)}`,
    ...p.flows.map(f => `  pod ${f.from} → pod ${f.to}: ${f.count}`)
  ]
  if (p.movedIds !== undefined) {
    lines.push('guilds that move (id, from, to):', ...p.movedIds.map(m => `${m.guildId}\t${m.from}\t${m.to}`))
  }
  return `${lines.join('\n')}\n`
}

function readIds (file: string): string[] {
  const ids: string[] = []
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message
    throw new InputError(`cannot read guild ids from ${JSON.stringify(file)}: ${why}`)
  }
  const lines = text.split('\n')
  lines.forEach((line, i) => {
    const id = line.trim()
    if (id === '' || id.startsWith('#')) return
    const problem = guildIdProblem(id)
    if (problem !== undefined) throw new UsageError(`${file}:${i + 1}: guild id ${JSON.stringify(id)} ${problem}`)
    ids.push(id)
  })
  return ids
}

function count (flag: string, raw: string | undefined): number {
  if (raw === undefined) throw new UsageError(`${flag} is required: a pod count ≥ 1`)
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be an integer ≥ 1 (got ${JSON.stringify(raw)})`)
  return n
}

function strategyOf (raw: string | undefined): StrategyName {
  if (raw === undefined || raw === '') return 'md5-mod'
  if (!isStrategyName(raw)) throw new UsageError(`--strategy must be one of ${STRATEGY_NAMES.join(', ')} (got ${JSON.stringify(raw)})`)
  return raw
}

if (require.main === module) {
  process.exitCode = runCli(process.argv.slice(2), process.env,
    s => process.stdout.write(s), s => process.stderr.write(s))
}
