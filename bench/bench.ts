import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureTools, machine, median, ROOT, waitForPort, wrk, WORKLOADS, type Workload, type WrkResult } from './bench-tools'
import { barsWithRange, renderSvg } from './chart'
import { direct, PEERS, startHaproxy, startNginx, startPeer, startRouter, startUpstreams, type Running } from './proxies'

/**
 * `npm run bench`: guild-router side by side, in one run, with
 * - nginx (`hash … consistent`) and HAProxy (`balance hdr(x-guild-id)`);
 * - the Node proxies: a minimal node:http + undici proxy (the Node ceiling),
 *   Fastify + @fastify/reply-from, Express + http-proxy-middleware;
 * - the gateway directly.
 * Each proxy runs on core 0 with one worker; wrk and the gateway stand-ins
 * share core 1. Rounds are interleaved (A B C … A B C …) so drift hits every
 * contender alike.
 *   npm run bench -- [--seconds 5] [--rounds 3] [--low 32] [--high 128] [--workload get|post]
 */
const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    low: { type: 'string', default: '32' },
    high: { type: 'string', default: '128' },
    workload: { type: 'string', default: 'get' },
    out: { type: 'string', default: join(ROOT, 'docs', 'bench') }
  }
})
const SECONDS = Number(flags.seconds)
const ROUNDS = Number(flags.rounds)
const CONCURRENCIES = [Number(flags.low), Number(flags.high)]
const PROXY_CORE = '0'
const LOAD_CORE = '1'
if (!(WORKLOADS as readonly string[]).includes(flags.workload)) throw new Error(`--workload must be one of ${WORKLOADS.join(', ')}`)
const WORKLOAD = flags.workload as Workload
const ROUTER = 'guild-router'
const [MINIMAL, FASTIFY] = PEERS.map(p => p.name) as [string, string, string]

/** The issue's goals for the router, as ratios and limits. */
const GOALS = { overMinimal: 1.1, overFastify: 1.4, peakRssMiB: 128, idleRssMiB: 60, coldP99Ms: 50 }

interface Cell { rps: number[], p50: number[], p99: number[], cpuUs: number[] }

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
    for (const peer of PEERS) contenders.push(await startPeer(peer, upstreams.ports, PROXY_CORE))
    contenders.push(await startRouter(upstreams.ports, PROXY_CORE))
    // Idle: started, listening, nothing served yet.
    await new Promise(resolve => setTimeout(resolve, 1000))
    const idle = new Map(contenders.map(c => [c.name, c.rss()]))
    await measure(contenders, upstreams.ports, idle)
  } finally {
    await stopAll()
  }
}

async function measure (contenders: Running[], upstreamPorts: number[], idle: Map<string, number>): Promise<void> {
  process.stdout.write(`bench on ${machine()}\n${WORKLOAD.toUpperCase()}, ${SECONDS} s × ${ROUNDS} interleaved rounds at ${CONCURRENCIES.join(' and ')} connections; proxies on core ${PROXY_CORE}, wrk + gateways on core ${LOAD_CORE}\n`)
  for (const c of contenders) wrk(c.url, CONCURRENCIES[0] as number, 2, LOAD_CORE, WORKLOAD) // warm-up: JIT, pools

  const cells = new Map<string, Cell>()
  const key = (name: string, conns: number): string => `${name}@${conns}`
  for (const conns of CONCURRENCIES) {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const c of contenders) {
        const cpuBefore = c.cpu()
        const r: WrkResult = wrk(c.url, conns, SECONDS, LOAD_CORE, WORKLOAD)
        const cpuUs = (c.cpu() - cpuBefore) / r.requests * 1e6
        const cell = cells.get(key(c.name, conns)) ?? { rps: [], p50: [], p99: [], cpuUs: [] }
        cell.rps.push(r.rps); cell.p50.push(r.p50Ms); cell.p99.push(r.p99Ms); cell.cpuUs.push(cpuUs)
        cells.set(key(c.name, conns), cell)
        process.stdout.write(`  c=${conns} round ${round} ${c.name.padEnd(25)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  CPU ${cpuUs.toFixed(1)} µs/req\n`)
      }
    }
  }
  const peak = new Map(contenders.map(c => [c.name, c.peakRss()]))

  // Cold start: a fresh, idle router takes a burst at once.
  const cold: number[] = []
  for (let i = 0; i < 3; i++) {
    const fresh = await startRouter(upstreamPorts, PROXY_CORE)
    await waitForPort(Number(new URL(fresh.url).port))
    cold.push(wrk(fresh.url, CONCURRENCIES[0] as number, 2, LOAD_CORE, WORKLOAD).p99Ms)
    await fresh.stop()
  }

  const names = contenders.map(c => c.name)
  const get = (name: string, conns: number): Cell => cells.get(key(name, conns)) as Cell
  const report = renderReport()
  mkdirSync(flags.out, { recursive: true })
  const suffix = WORKLOAD === 'get' ? '' : `-${WORKLOAD}`
  writeFileSync(join(flags.out, `results${suffix}.md`), report)
  const rows = names.flatMap(name => CONCURRENCIES.map(conns => {
    const cell = get(name, conns)
    return { group: `${conns} connections`, series: name, value: median(cell.rps), min: Math.min(...cell.rps), max: Math.max(...cell.rps) }
  }))
  writeFileSync(join(flags.out, `throughput${suffix}.svg`), await renderSvg(barsWithRange(`Throughput, ${WORKLOAD.toUpperCase()}, one core per proxy (median, min–max)`, 'requests/s', rows)))
  process.stdout.write(`\n${report}\nwrote ${join(flags.out, `results${suffix}.md`)} and throughput${suffix}.svg\n`)

  function renderReport (): string {
    const fixed = (x: number, digits = 2): string => (Number.isNaN(x) ? '–' : x.toFixed(digits))
    const out = [
      '# Benchmark: guild-router, the Node proxies, nginx and HAProxy',
      '',
      `Machine: ${machine()}. Command: \`npm run bench -- --seconds ${SECONDS} --rounds ${ROUNDS} --low ${CONCURRENCIES[0]} --high ${CONCURRENCIES[1]} --workload ${WORKLOAD}\`.`,
      `Workload: wrk, one thread, ${WORKLOAD === 'get' ? 'a GET' : 'a small JSON POST'} with a random \`x-guild-id\` per request (\`bench/guild-${WORKLOAD}.lua\`).`,
      'Every proxy routes by md5 of the header, mod 3. The gateways are three static nginx server blocks on core 1 with wrk, so each proxy on core 0 is the bottleneck.',
      'Medians of the interleaved rounds, min–max in brackets. CPU µs/req is the proxy\'s CPU time (user + system) over the requests it served: what it costs whatever else runs. Idle RSS is VmRSS after start, before any request; peak RSS is VmHWM over the whole run.',
      ''
    ]
    for (const conns of CONCURRENCIES) {
      const nginx = median(get('nginx', conns).rps)
      const router = median(get(ROUTER, conns).rps)
      out.push(`## ${conns} connections`, '',
        '| target | req/s | p50 ms | p99 ms | × nginx | × guild-router | CPU µs/req | idle RSS MiB | peak RSS MiB |',
        '|---|---|---|---|---|---|---|---|---|')
      for (const name of names) {
        const c = get(name, conns)
        const rps = median(c.rps)
        out.push(`| ${name} | ${rps.toFixed(0)} (${Math.min(...c.rps).toFixed(0)}–${Math.max(...c.rps).toFixed(0)}) | ${fixed(median(c.p50))} | ${fixed(median(c.p99))} (${fixed(Math.min(...c.p99))}–${fixed(Math.max(...c.p99))}) | ${fixed(rps / nginx)} | ${fixed(rps / router)} | ${fixed(median(c.cpuUs), 1)} | ${fixed(idle.get(name) ?? Number.NaN, 1)} | ${fixed(peak.get(name) ?? Number.NaN, 1)} |`)
      }
      out.push('')
    }
    const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED')
    const ratio = (other: string, conns: number): number => median(get(ROUTER, conns).rps) / median(get(other, conns).rps)
    const routerPeak = peak.get(ROUTER) ?? Number.NaN
    const routerIdle = idle.get(ROUTER) ?? Number.NaN
    const coldMedian = median(cold)
    out.push('## Goals', '')
    for (const conns of CONCURRENCIES) {
      const overMinimal = ratio(MINIMAL, conns)
      const overFastify = ratio(FASTIFY, conns)
      const p99 = median(get(ROUTER, conns).p99)
      const minimalP99 = median(get(MINIMAL, conns).p99)
      out.push(
        `- ${conns} connections: ≥ ${GOALS.overMinimal} × the minimal Node proxy: ${overMinimal.toFixed(2)} × — ${verdict(overMinimal >= GOALS.overMinimal)}`,
        `- ${conns} connections: ≥ ${GOALS.overFastify} × Fastify + reply-from: ${overFastify.toFixed(2)} × — ${verdict(overFastify >= GOALS.overFastify)}`,
        `- ${conns} connections: p99 no worse than the minimal proxy's: ${p99.toFixed(2)} ms vs ${minimalP99.toFixed(2)} ms — ${verdict(p99 <= minimalP99)}`)
    }
    out.push(
      `- peak RSS ≤ ${GOALS.peakRssMiB} MiB through the whole run: ${routerPeak.toFixed(1)} MiB — ${verdict(routerPeak <= GOALS.peakRssMiB)}`,
      `- idle RSS ≤ ${GOALS.idleRssMiB} MiB: ${routerIdle.toFixed(1)} MiB — ${verdict(routerIdle <= GOALS.idleRssMiB)}`,
      `- cold-start burst p99 ≤ ${GOALS.coldP99Ms} ms (first 2 s at ${CONCURRENCIES[0]} connections, fresh router, 3 starts): ${cold.map(v => v.toFixed(2)).join(', ')} ms, median ${coldMedian.toFixed(2)} — ${verdict(coldMedian <= GOALS.coldP99Ms)}`,
      '')
    return out.join('\n')
  }
}

main().catch(err => { process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`); process.exit(1) })
