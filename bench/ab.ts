import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureTools, machine, median, wrk } from './bench-tools'
import { startRouter, startUpstreams } from './proxies'

/**
 * This checkout's router against another built checkout's, interleaved in
 * one run, for a hot-path change: this VM drifts ±20% between runs, so two
 * separate `npm run bench` runs cannot tell a few percent apart.
 *   npm run bench:ab -- --base ../other-checkout [--seconds 5] [--rounds 6] [--connections 32]
 * The other checkout must have run `npm ci && npm run build`.
 */
const { values: flags } = parseArgs({
  options: {
    base: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '6' },
    connections: { type: 'string', default: '32' }
  }
})

async function main (): Promise<void> {
  if (flags.base === undefined) throw new Error('--base <directory of a built checkout> is required')
  ensureTools()
  const conns = Number(flags.connections)
  const upstreams = await startUpstreams(mkdtempSync(join(tmpdir(), 'guild-ab-')), 3, '1')
  const here = join(__dirname, '..', 'service')
  const contenders = {
    this: await startRouter(upstreams.ports, '0'),
    base: await startRouter(upstreams.ports, '0', relative(here, resolve(flags.base, 'dist', 'service', 'main.js')))
  }
  try {
    process.stdout.write(`A/B on ${machine()}: wrk -c${conns}, ${flags.seconds} s × ${flags.rounds} interleaved rounds; base ${flags.base}\n`)
    for (const c of Object.values(contenders)) wrk(c.url, conns, 2, '1') // warm-up
    const rps = { this: [] as number[], base: [] as number[] }
    const cpu = { this: [] as number[], base: [] as number[] }
    for (let round = 0; round < Number(flags.rounds); round++) {
      for (const name of ['this', 'base'] as const) {
        const c = contenders[name]
        const before = c.cpu()
        const run = wrk(c.url, conns, Number(flags.seconds), '1')
        rps[name].push(run.rps)
        cpu[name].push((c.cpu() - before) * 1e6 / run.requests)
      }
    }
    process.stdout.write(`req/s: this ${median(rps.this).toFixed(0)}, base ${median(rps.base).toFixed(0)}, ratio ${(median(rps.this) / median(rps.base)).toFixed(3)}\n`)
    process.stdout.write(`CPU µs/req: this ${median(cpu.this).toFixed(1)}, base ${median(cpu.base).toFixed(1)}\n`)
  } finally {
    for (const c of Object.values(contenders)) await c.stop()
    await upstreams.stop()
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`)
  process.exit(1)
})
