import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureTools, machine, wrk } from './bench-tools'
import { startRouter, startUpstreams } from './proxies'

/**
 * Where a saturated router's CPU and memory go: the router under wrk (same
 * layout as `npm run bench`) with a V8 CPU profile, a syscall count from
 * strace, and its idle and peak memory.
 *   npm run bench:profile -- [--seconds 8] [--connections 64]
 */
const { values: flags } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, connections: { type: 'string', default: '64' } } })
const SECONDS = Number(flags.seconds)
const CONNS = Number(flags.connections)

interface CpuProfile { nodes: Array<{ id: number, callFrame: { functionName: string, url: string } }>, samples: number[], timeDeltas: number[] }

/** Self time by where the code lives: kernel-bound native calls, a package, Node's internals, or ours. */
function categorize (dir: string): Array<[string, number]> {
  const file = readdirSync(dir).find(f => f.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error('no CPU profile written')
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile
  const byId = new Map(prof.nodes.map(n => [n.id, n.callFrame]))
  const totals = new Map<string, number>()
  let busy = 0
  prof.samples.forEach((id, i) => {
    const frame = byId.get(id)
    const dt = prof.timeDeltas[i] ?? 0
    if (frame === undefined || frame.functionName === '(idle)') return
    const url = frame.url
    const key = url.includes('node_modules/')
      ? `package ${url.split('node_modules/')[1]?.split('/')[0] ?? '?'}`
      : url.startsWith('node:') ? 'Node.js internals' : url.includes('/dist/') ? 'guild-router' : `native ${frame.functionName}`
    totals.set(key, (totals.get(key) ?? 0) + dt)
    busy += dt
  })
  return [...totals.entries()].map(([k, t]): [string, number] => [k, t / busy]).sort((a, b) => b[1] - a[1])
}

async function main (): Promise<void> {
  ensureTools()
  if (spawnSync('sh', ['-c', 'command -v strace']).status !== 0) {
    spawnSync('apt-get', ['install', '-y', '-qq', 'strace'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  }
  const dir = mkdtempSync(join(tmpdir(), 'guild-profile-'))
  const upstreams = await startUpstreams(dir, 3, '1')
  const profDir = join(dir, 'cpu')
  try {
    // 1. CPU profile and memory at full load.
    process.env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${profDir}`
    const profiled = await startRouter(upstreams.ports, '0')
    delete process.env.NODE_OPTIONS
    await new Promise(resolve => setTimeout(resolve, 1000))
    const idle = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${profiled.pid as number}/status`, 'utf8'))?.[1] ?? 0) / 1024
    wrk(profiled.url, CONNS, 2, '1') // warm-up
    const run = wrk(profiled.url, CONNS, SECONDS, '1')
    const peak = profiled.peakRss()
    await profiled.stop() // the CPU profile is written on exit

    // 2. Syscalls per request, on a fresh router (strace slows it; the counts per request hold).
    const traced = await startRouter(upstreams.ports, '0')
    wrk(traced.url, CONNS, 1, '1')
    const strace = spawn('strace', ['-f', '-c', '-p', String(traced.pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
    let straceOut = ''
    strace.stderr.on('data', (c: Buffer) => { straceOut += c.toString() })
    await new Promise(resolve => setTimeout(resolve, 500))
    const tracedRun = wrk(traced.url, CONNS, 3, '1')
    await new Promise(resolve => setTimeout(resolve, 200))
    strace.kill('SIGINT')
    await once(strace, 'exit')
    await traced.stop()
    const requests = tracedRun.rps * 3
    // strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall.
    const calls = (name: string): number => {
      const row = straceOut.split('\n').map(l => l.trim().split(/\s+/)).find(f => f[f.length - 1] === name)
      return Number(row?.[3] ?? Number.NaN)
    }

    const lines = [
      `profile on ${machine()}: wrk -c${CONNS} for ${SECONDS} s (router on core 0, wrk and gateways on core 1)`,
      `throughput while profiled: ${run.rps.toFixed(0)} req/s`,
      `syscalls per request (3 s under strace): writev ${(calls('writev') / requests).toFixed(2)}, read ${(calls('read') / requests).toFixed(2)}`,
      `memory: idle RSS ${idle.toFixed(1)} MiB, peak RSS ${peak.toFixed(1)} MiB`,
      'CPU self time while busy, by where the code lives:',
      ...categorize(profDir).slice(0, 12).map(([k, share]) => `  ${(100 * share).toFixed(1).padStart(5)}%  ${k}`)
    ]
    process.stdout.write(`${lines.join('\n')}\n`)
  } finally {
    await upstreams.stop()
  }
}

main().catch(err => { process.stderr.write(`profile: ${err instanceof Error ? err.stack : String(err)}\n`); process.exit(1) })
