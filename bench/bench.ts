import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureTools, machine, median, ROOT, waitForPort, wrk, type WrkResult } from './bench-tools'
import { barsWithRange, renderSvg } from './chart'
import { direct, startHaproxy, startNginx, startRouter, startUpstreams, type Running } from './proxies'

/**
 * `npm run bench`: guild-router side by side with nginx (`hash … consistent`)
 * and HAProxy (`balance hdr(x-guild-id)`, `hash-type consistent`) and the
 * gateway directly, in one run. Each proxy runs on core 0 with one worker;
 * wrk and the gateway stand-ins share core 1. Rounds are interleaved
 * (A B C D A B C D …) so drift hits every contender alike.
 *   npm run bench -- [--seconds 8] [--rounds 3] [--low 16] [--high 128]
 */
const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    low: { type: 'string', default: '16' },
    high: { type: 'string', default: '128' },
    out: { type: 'string', default: join(ROOT, 'docs', 'bench') }
  }
})
const SECONDS = Number(flags.seconds)
const ROUNDS = Number(flags.rounds)
const CONCURRENCIES = [Number(flags.low), Number(flags.high)]
const PROXY_CORE = '0'
const LOAD_CORE = '1'

interface Cell { rps: number[], p50: number[], p99: number[] }

async function main (): Promise<void> {
  ensureTools()
  const dir = mkdtempSync(join(tmpdir(), 'guild-bench-'))
  const upstreams = await startUpstreams(dir, 3, LOAD_CORE)
  const contenders: Running[] = [direct(upstreams.ports[0] as number)]
  const stopAll = async (): Promise<void> => { await Promise.all(contenders.map(c => c.stop())); await upstreams.stop() }
  process.once('SIGINT', () => { void stopAll().then(() => process.exit(130)) })
  try {
    contenders.push(await startNginx(dir, upstreams.ports, PROXY_CORE))
    contenders.push(await startHaproxy(dir, upstreams.ports, PROXY_CORE))
    contenders.push(await startRouter(upstreams.ports, PROXY_CORE))
    await measure(contenders, upstreams.ports)
  } finally {
    await stopAll()
  }
}

async function measure (contenders: Running[], upstreamPorts: number[]): Promise<void> {

  process.stdout.write(`bench on ${machine()}\n${SECONDS} s × ${ROUNDS} interleaved rounds at ${CONCURRENCIES.join(' and ')} connections; proxies on core ${PROXY_CORE}, wrk + gateways on core ${LOAD_CORE}\n`)
  for (const c of contenders) wrk(c.url, CONCURRENCIES[0] as number, 2, LOAD_CORE) // warm-up: JIT, pools

  const cells = new Map<string, Cell>()
  const key = (name: string, conns: number): string => `${name}@${conns}`
  for (const conns of CONCURRENCIES) {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const c of contenders) {
        const r: WrkResult = wrk(c.url, conns, SECONDS, LOAD_CORE)
        const cell = cells.get(key(c.name, conns)) ?? { rps: [], p50: [], p99: [] }
        cell.rps.push(r.rps); cell.p50.push(r.p50Ms); cell.p99.push(r.p99Ms)
        cells.set(key(c.name, conns), cell)
        process.stdout.write(`  c=${conns} round ${round} ${c.name.padEnd(17)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms\n`)
      }
    }
  }
  const rss = new Map(contenders.map(c => [c.name, c.peakRss()]))

  // Cold start: a fresh, idle router takes a burst at once.
  const cold: number[] = []
  for (let i = 0; i < 3; i++) {
    const fresh = await startRouter(upstreamPorts, PROXY_CORE)
    await waitForPort(Number(new URL(fresh.url).port))
    cold.push(wrk(fresh.url, CONCURRENCIES[0] as number, 2, LOAD_CORE).p99Ms)
    await fresh.stop()
  }

  const report = renderReport(contenders.map(c => c.name), cells, rss, cold)
  mkdirSync(flags.out, { recursive: true })
  writeFileSync(join(flags.out, 'results.md'), report)
  const rows = contenders.flatMap(c => CONCURRENCIES.map(conns => {
    const cell = cells.get(key(c.name, conns)) as Cell
    return { group: `${conns} connections`, series: c.name, value: median(cell.rps), min: Math.min(...cell.rps), max: Math.max(...cell.rps) }
  }))
  writeFileSync(join(flags.out, 'throughput.svg'), await renderSvg(barsWithRange('Throughput, one core per proxy (median, min–max)', 'requests/s', rows)))
  process.stdout.write(`\n${report}\nwrote ${join(flags.out, 'results.md')} and throughput.svg\n`)

  function renderReport (names: string[], data: Map<string, Cell>, peak: Map<string, number>, coldP99: number[]): string {
    const out = [
      '# Benchmark: guild-router, nginx and HAProxy',
      '',
      `Machine: ${machine()}. Command: \`npm run bench -- --seconds ${SECONDS} --rounds ${ROUNDS} --low ${CONCURRENCIES[0]} --high ${CONCURRENCIES[1]}\`.`,
      'Workload: wrk, one thread, a small POST with a random `x-guild-id` per request (`bench/guild-workload.lua`).',
      'The gateways are three static nginx server blocks on core 1 with wrk, so each proxy on core 0 is the bottleneck.',
      'Medians of the interleaved rounds, min–max in brackets; peak RSS is VmHWM over the whole run.',
      ''
    ]
    for (const conns of CONCURRENCIES) {
      const get = (name: string): Cell => data.get(key(name, conns)) as Cell
      const nginx = median(get('nginx').rps)
      const ceiling = median(get('gateway directly').rps)
      out.push(`## ${conns} connections`, '', '| target | req/s | p50 ms | p99 ms | × nginx | × direct | peak RSS MiB |', '|---|---|---|---|---|---|---|')
      for (const name of names) {
        const c = get(name)
        const rps = median(c.rps)
        const mem = peak.get(name) ?? Number.NaN
        out.push(`| ${name} | ${rps.toFixed(0)} (${Math.min(...c.rps).toFixed(0)}–${Math.max(...c.rps).toFixed(0)}) | ${median(c.p50).toFixed(2)} | ${median(c.p99).toFixed(2)} (${Math.min(...c.p99).toFixed(2)}–${Math.max(...c.p99).toFixed(2)}) | ${(rps / nginx).toFixed(2)} | ${(rps / ceiling).toFixed(2)} | ${Number.isNaN(mem) ? '–' : mem.toFixed(1)} |`)
      }
      out.push('')
    }
    const low = CONCURRENCIES[0] as number
    const router = data.get(key('guild-router', low)) as Cell
    const nginxLow = data.get(key('nginx', low)) as Cell
    const ratio = Math.min(...CONCURRENCIES.map(c => median((data.get(key('guild-router', c)) as Cell).rps) / median((data.get(key('nginx', c)) as Cell).rps)))
    const p99Ratio = median(router.p99) / median(nginxLow.p99)
    const routerRss = peak.get('guild-router') ?? Number.NaN
    const coldMedian = median(coldP99)
    const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED')
    out.push('## Targets', '',
      `- throughput ≥ 0.5 × nginx: lowest ratio ${ratio.toFixed(2)} — ${verdict(ratio >= 0.5)}`,
      `- p99 at ${low} connections ≤ 2 × nginx: ${p99Ratio.toFixed(2)} × — ${verdict(p99Ratio <= 2)}`,
      `- peak RSS ≤ 100 MB: ${routerRss.toFixed(1)} MiB — ${verdict(routerRss * 1.048576 <= 100)}`,
      `- cold-start burst p99 ≤ 50 ms (first 2 s at ${low} connections, fresh router, 3 starts): ${coldP99.map(v => v.toFixed(2)).join(', ')} ms, median ${coldMedian.toFixed(2)} — ${verdict(coldMedian <= 50)}`,
      '')
    return out.join('\n')
  }
}

main().catch(err => { process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`); process.exit(1) })
