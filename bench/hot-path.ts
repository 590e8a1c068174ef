import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureTools, machine, median, wrk } from './bench-tools'
import { direct, startRouter, startUpstreams, type Running } from './proxies'

/**
 * Express in front of the proxy handler, or node:http directly? The same
 * handler both ways (and the gateway alone, the ceiling), under wrk, with the
 * router on core 0 and wrk plus the gateway stand-ins on core 1, interleaved.
 *   npm run bench:hot-path -- [--seconds 6] [--rounds 3] [--connections 32]
 */
const { values: flags } = parseArgs({
  options: { seconds: { type: 'string', default: '6' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '32' } }
})

async function main (): Promise<void> {
  ensureTools()
  const upstreams = await startUpstreams(mkdtempSync(join(tmpdir(), 'guild-hot-')), 3, '1')
  const contenders: Running[] = [direct(upstreams.ports[0] as number)]
  try {
    contenders.push({ ...await startRouter(upstreams.ports, '0'), name: 'router on node:http' })
    contenders.push({ ...await startRouter(upstreams.ports, '0', join('..', 'bench', 'express-router-main.js')), name: 'router under Express 5' })
    const conns = Number(flags.connections)
    process.stdout.write(`hot path on ${machine()}: wrk -c${conns}, ${flags.seconds} s × ${flags.rounds} rounds\n`)
    for (const c of contenders) wrk(c.url, conns, 2, '1') // warm-up
    const rps = new Map<string, number[]>()
    for (let round = 1; round <= Number(flags.rounds); round++) {
      for (const c of contenders) {
        const r = wrk(c.url, conns, Number(flags.seconds), '1')
        rps.set(c.name, [...(rps.get(c.name) ?? []), r.rps])
        process.stdout.write(`round ${round}  ${c.name.padEnd(24)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms\n`)
      }
    }
    for (const [name, xs] of rps) process.stdout.write(`median ${name.padEnd(24)} ${median(xs).toFixed(0)} req/s (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})\n`)
  } finally {
    await Promise.all(contenders.map(c => c.stop()))
    await upstreams.stop()
  }
}

main().catch(err => { process.stderr.write(`${String(err)}\n`); process.exit(1) })
