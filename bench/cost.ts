import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureTools, machine, median, wrk, WORKLOADS, type Workload } from './bench-tools'
import { PEERS, startPeer, startRouter, startUpstreams, type Running } from './proxies'

/**
 * `npm run bench:cost`: CPU time per request of guild-router and the minimal
 * node:http + undici proxy, side by side. Throughput needs a quiet machine;
 * CPU time per request barely moves when other work shares the cores, so
 * this is the number to compare a hot-path change by while the machine is
 * busy. Same layout as `npm run bench`. `--node-defaults` adds the router
 * started without the image's memory flags, to see what they trade in
 * throughput, p99 and peak RSS.
 *   npm run bench:cost -- [--seconds 4] [--rounds 5] [--connections 32] [--workload get|post] [--peers all] [--node-defaults]
 */
const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    workload: { type: 'string', default: 'get' },
    peers: { type: 'string', default: 'minimal' },
    'node-defaults': { type: 'boolean', default: false }
  }
})
if (!(WORKLOADS as readonly string[]).includes(flags.workload)) throw new Error(`--workload must be one of ${WORKLOADS.join(', ')}`)
const WORKLOAD = flags.workload as Workload
const CONNS = Number(flags.connections)

async function main (): Promise<void> {
  ensureTools()
  const upstreams = await startUpstreams(mkdtempSync(join(tmpdir(), 'guild-cost-')), 3, '1')
  const contenders: Running[] = []
  try {
    for (const peer of flags.peers === 'all' ? PEERS : PEERS.slice(0, 1)) contenders.push(await startPeer(peer, upstreams.ports, '0'))
    contenders.push(await startRouter(upstreams.ports, '0'))
    if (flags['node-defaults']) contenders.push(await startRouter(upstreams.ports, '0', 'main.js', 'node-defaults'))
    process.stdout.write(`cost on ${machine()}: ${WORKLOAD.toUpperCase()}, wrk -c${CONNS}, ${flags.seconds} s × ${flags.rounds} rounds\n`)
    for (const c of contenders) wrk(c.url, CONNS, 2, '1', WORKLOAD) // warm-up
    const runs = new Map<string, { rps: number[], cpuUs: number[], p99: number[] }>()
    for (let round = 1; round <= Number(flags.rounds); round++) {
      for (const c of contenders) {
        const before = c.cpu()
        const r = wrk(c.url, CONNS, Number(flags.seconds), '1', WORKLOAD)
        const cpuUs = (c.cpu() - before) / r.requests * 1e6
        const run = runs.get(c.name) ?? { rps: [], cpuUs: [], p99: [] }
        run.rps.push(r.rps); run.cpuUs.push(cpuUs); run.p99.push(r.p99Ms)
        runs.set(c.name, run)
        process.stdout.write(`round ${round}  ${c.name.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} req/s  p99 ${r.p99Ms.toFixed(2)} ms  CPU ${cpuUs.toFixed(1)} µs/req\n`)
      }
    }
    const router = median(runs.get('guild-router')?.cpuUs ?? [])
    for (const c of contenders) {
      const run = runs.get(c.name)
      if (run === undefined) continue
      const cpu = median(run.cpuUs)
      process.stdout.write(`median ${c.name.padEnd(28)} ${median(run.rps).toFixed(0).padStart(7)} req/s  p99 ${median(run.p99).toFixed(2)} ms  CPU ${cpu.toFixed(1)} µs/req (${Math.min(...run.cpuUs).toFixed(1)}–${Math.max(...run.cpuUs).toFixed(1)})  peak RSS ${c.peakRss().toFixed(1)} MiB  guild-router's throughput at this cost: ${(cpu / router).toFixed(2)} ×\n`)
    }
  } finally {
    await Promise.all(contenders.map(c => c.stop()))
    await upstreams.stop()
  }
}

main().catch(err => { process.stderr.write(`cost: ${err instanceof Error ? err.stack : String(err)}\n`); process.exit(1) })
