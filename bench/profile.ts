import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureTools, machine, wrk, WORKLOADS, type Workload } from './bench-tools'
import { PEERS, startPeer, startRouter, startUpstreams, type Running } from './proxies'

/**
 * Where a saturated proxy's CPU goes, per request: guild-router and the
 * minimal node:http + undici proxy (the Node ceiling) under the same wrk load
 * (layout as in `npm run bench`), each with a V8 CPU profile. Self time is
 * grouped by what the code is (kernel I/O, Node's HTTP server, streams,
 * undici's parser, the router's own modules, …) and turned into µs per
 * request, so the two columns say exactly what the router does beyond the
 * ceiling and what neither can shed. Then a syscall count per request
 * (strace) and the router's idle and peak memory.
 *   npm run bench:profile -- [--seconds 8] [--connections 32] [--workload get|post]
 */
const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '32' },
    workload: { type: 'string', default: 'get' }
  }
})
const SECONDS = Number(flags.seconds)
const CONNS = Number(flags.connections)
if (!(WORKLOADS as readonly string[]).includes(flags.workload)) throw new Error(`--workload must be one of ${WORKLOADS.join(', ')}`)
const WORKLOAD = flags.workload as Workload

interface CallFrame { functionName: string, url: string }
interface CpuProfile { nodes: Array<{ id: number, callFrame: CallFrame }>, startTime: number, samples: number[], timeDeltas: number[] }

/** Kernel work shows up as the native call that entered it: a socket write also runs the receiver's TCP path on loopback. */
const KERNEL_IO = new Set(['writev', 'writeBuffer', 'writeLatin1String', 'writeUtf8String', 'writeAsciiString', 'readStart'])

/** What a sampled frame is, coarse enough to compare two proxies by. */
export function categoryOf ({ functionName, url }: CallFrame): string {
  if (url === '') {
    if (KERNEL_IO.has(functionName)) return 'kernel: socket writes'
    if (functionName === '(garbage collector)') return 'V8: garbage collector'
    if (functionName === '(program)') return 'native: event loop, socket reads, V8'
    return `native: other (${functionName})`
  }
  if (url.startsWith('wasm://')) return 'undici: HTTP parser (llhttp wasm)'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url)
  if (pkg !== null) {
    const [, name, file] = pkg as unknown as [string, string, string]
    if (name !== 'undici') return `package: ${name}`
    if (file.includes('dispatcher/client-h1') && functionName.startsWith('wasm_on_')) return 'undici: HTTP parser (llhttp wasm)'
    if (file.includes('dispatcher/client-h1')) return 'undici: HTTP/1.1 client'
    if (file.includes('dispatcher/')) return 'undici: pool and client queue'
    if (file.includes('core/request')) return 'undici: request and handler calls'
    return 'undici: other'
  }
  if (url.startsWith('node:')) {
    const mod = url.slice('node:'.length)
    if (/^_http_(server|incoming|outgoing|common)$/.test(mod)) return 'Node: HTTP server'
    if (mod.startsWith('internal/streams/') || mod === 'stream') return 'Node: streams'
    if (mod === 'net' || mod === 'internal/stream_base_commons') return 'Node: sockets'
    if (mod === 'timers' || mod.startsWith('internal/timers') || mod.startsWith('internal/process/task_queues')) return 'Node: timers and ticks'
    if (mod === 'events') return 'Node: events'
    if (mod.startsWith('internal/crypto/')) return 'Node: crypto (md5; request ids)'
    if (mod.startsWith('internal/modules/') || mod.startsWith('internal/bootstrap/')) return 'Node: module loading'
    return 'Node: other'
  }
  const ours = /\/dist\/(service|bench)\/(.+)\.js$/.exec(url)
  if (ours !== null) return `${ours[1] === 'service' ? 'guild-router' : 'peer'}: ${ours[2] as string}`
  return `other: ${url}`
}

/**
 * Self time per category as a share of the busy (non-idle) time, counting
 * only samples between `from` and `to` (µs on the monotonic clock V8's
 * profiler and process.hrtime share): the measured run, not start-up.
 */
function shares (dir: string, from: number, to: number): Map<string, number> {
  const file = readdirSync(dir).find(f => f.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error(`no CPU profile written in ${dir}`)
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile
  const byId = new Map(prof.nodes.map(n => [n.id, n.callFrame]))
  const totals = new Map<string, number>()
  let busy = 0
  let at = prof.startTime
  prof.samples.forEach((id, i) => {
    const frame = byId.get(id)
    const dt = prof.timeDeltas[i] ?? 0
    at += dt
    if (at < from || at > to || frame === undefined || frame.functionName === '(idle)') return
    const key = categoryOf(frame)
    totals.set(key, (totals.get(key) ?? 0) + dt)
    busy += dt
  })
  return new Map([...totals].map(([k, t]) => [k, t / busy]))
}

interface Profiled { name: string, rps: number, cpuUs: number, byCategory: Map<string, number>, idleMiB: number, peakMiB: number }

async function profile (start: (core: string) => Promise<Running>, dir: string): Promise<Profiled> {
  process.env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${dir}`
  const proxy = await start('0')
  delete process.env.NODE_OPTIONS
  await new Promise(resolve => setTimeout(resolve, 1000))
  const idleMiB = proxy.rss()
  wrk(proxy.url, CONNS, 2, '1', WORKLOAD) // warm-up
  const cpuBefore = proxy.cpu()
  const from = monotonicUs()
  const run = wrk(proxy.url, CONNS, SECONDS, '1', WORKLOAD)
  const to = monotonicUs()
  const cpuUs = (proxy.cpu() - cpuBefore) / run.requests * 1e6
  const peakMiB = proxy.peakRss()
  await proxy.stop() // the CPU profile is written on exit
  const byCategory = new Map([...shares(dir, from, to)].map(([k, share]) => [k, share * cpuUs]))
  return { name: proxy.name, rps: run.rps, cpuUs, byCategory, idleMiB, peakMiB }
}

function monotonicUs (): number {
  return Number(process.hrtime.bigint() / 1000n)
}

async function main (): Promise<void> {
  ensureTools()
  if (spawnSync('sh', ['-c', 'command -v strace']).status !== 0) {
    spawnSync('apt-get', ['install', '-y', '-qq', 'strace'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  }
  const dir = mkdtempSync(join(tmpdir(), 'guild-profile-'))
  const upstreams = await startUpstreams(dir, 3, '1')
  try {
    // 1. CPU profiles at full load, the ceiling first.
    const minimal = await profile(core => startPeer(PEERS[0], upstreams.ports, core), join(dir, 'minimal'))
    const router = await profile(core => startRouter(upstreams.ports, core), join(dir, 'router'))

    // 2. Syscalls per request, on a fresh router (strace slows it; the counts per request hold).
    const traced = await startRouter(upstreams.ports, '0')
    wrk(traced.url, CONNS, 1, '1', WORKLOAD)
    const strace = spawn('strace', ['-f', '-c', '-p', String(traced.pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
    let straceOut = ''
    strace.stderr.on('data', (c: Buffer) => { straceOut += c.toString() })
    await new Promise(resolve => setTimeout(resolve, 500))
    const tracedRun = wrk(traced.url, CONNS, 3, '1', WORKLOAD)
    await new Promise(resolve => setTimeout(resolve, 200))
    strace.kill('SIGINT')
    await once(strace, 'exit')
    await traced.stop()
    // strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall.
    const calls = (name: string): number => {
      const row = straceOut.split('\n').map(l => l.trim().split(/\s+/)).find(f => f[f.length - 1] === name)
      return Number(row?.[3] ?? Number.NaN)
    }

    // Categories under 0.3 µs in both columns are summed into one line.
    const all = [...new Set([...router.byCategory.keys(), ...minimal.byCategory.keys()])]
    const big = (k: string): boolean => Math.max(router.byCategory.get(k) ?? 0, minimal.byCategory.get(k) ?? 0) >= 0.3
    const rest = 'everything else (each < 0.3 µs)'
    for (const p of [router, minimal]) p.byCategory.set(rest, all.filter(k => !big(k)).reduce((sum, k) => sum + (p.byCategory.get(k) ?? 0), 0))
    const categories = [...all.filter(big).sort((a, b) => (router.byCategory.get(b) ?? 0) - (router.byCategory.get(a) ?? 0)), rest]
    const us = (p: Profiled, k: string): string => (p.byCategory.get(k) ?? 0).toFixed(2).padStart(8)
    const lines = [
      `profile on ${machine()}: ${WORKLOAD.toUpperCase()}, wrk -c${CONNS} for ${SECONDS} s (proxy on core 0, wrk and gateways on core 1)`,
      `${'while profiled'.padEnd(44)} ${'minimal'.padStart(8)} ${'router'.padStart(8)}`,
      `${'  req/s'.padEnd(44)} ${minimal.rps.toFixed(0).padStart(8)} ${router.rps.toFixed(0).padStart(8)}`,
      `${'  CPU µs per request (user + system)'.padEnd(44)} ${minimal.cpuUs.toFixed(2).padStart(8)} ${router.cpuUs.toFixed(2).padStart(8)}`,
      `${'  idle RSS MiB'.padEnd(44)} ${minimal.idleMiB.toFixed(1).padStart(8)} ${router.idleMiB.toFixed(1).padStart(8)}`,
      `${'  peak RSS MiB'.padEnd(44)} ${minimal.peakMiB.toFixed(1).padStart(8)} ${router.peakMiB.toFixed(1).padStart(8)}`,
      'CPU µs per request, by what the code is (V8 self time × CPU per request):',
      ...categories.map(k => `  ${k.padEnd(42)} ${us(minimal, k)} ${us(router, k)}`),
      `router syscalls per request (3 s under strace): writev ${(calls('writev') / (tracedRun.rps * 3)).toFixed(2)}, write ${(calls('write') / (tracedRun.rps * 3)).toFixed(2)}, read ${(calls('read') / (tracedRun.rps * 3)).toFixed(2)}, epoll_wait ${(calls('epoll_wait') / (tracedRun.rps * 3)).toFixed(2)}`
    ]
    process.stdout.write(`${lines.join('\n')}\n`)
  } finally {
    await upstreams.stop()
  }
}

main().catch(err => { process.stderr.write(`profile: ${err instanceof Error ? err.stack : String(err)}\n`); process.exit(1) })
