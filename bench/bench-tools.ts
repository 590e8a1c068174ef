import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'

export { freePort } from '../dev/free-port'

/** Shared plumbing for the benchmark scripts: tools, cores, ports, wrk, RSS. */

export const ROOT = join(__dirname, '..', '..')

/** Installs Debian's nginx, HAProxy and wrk when missing (root only), never starting their services. */
export function ensureTools (): void {
  // Debian puts nginx and HAProxy in /usr/sbin, which a non-login PATH may lack.
  const path = (process.env.PATH ?? '').split(':')
  for (const dir of ['/usr/sbin', '/sbin']) if (!path.includes(dir)) path.push(dir)
  process.env.PATH = path.join(':')
  const missing = [['nginx', 'nginx-light'], ['haproxy', 'haproxy'], ['wrk', 'wrk']]
    .filter(([bin]) => spawnSync('sh', ['-c', `command -v ${bin as string}`]).status !== 0).map(([, pkg]) => pkg as string)
  if (missing.length === 0) return
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.join(', ')}: install them with apt-get (needs root)`)
  process.stdout.write(`installing ${missing.join(', ')} from Debian…\n`)
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' })
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
}

export function pin (pid: number, core: string): void {
  // -a: every thread of the process, including ones started later by Node's pools.
  execFileSync('taskset', ['-a', '-pc', core, String(pid)], { stdio: 'ignore' })
}

export async function waitForPort (port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const ok = await new Promise<boolean>(resolve => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => { s.destroy(); resolve(true) })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${ms} ms`)
}

export function startProcess (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-2000) })
  child.once('exit', code => { if (code !== 0 && code !== null) process.stderr.write(`${cmd} exited ${code}: ${stderr}\n`) })
  return child
}

export async function stopProcess (child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 3000))])
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}

export interface WrkResult { readonly requests: number, readonly rps: number, readonly p50Ms: number, readonly p99Ms: number }

/** What wrk sends: a GET, or a small JSON POST (an interaction), each with a random `x-guild-id`. */
export type Workload = 'get' | 'post'
export const WORKLOADS: readonly Workload[] = ['get', 'post']

/** wrk on `core`: one thread, `connections` connections, a guild-id workload script. */
export function wrk (url: string, connections: number, seconds: number, core: string, workload: Workload = 'get'): WrkResult {
  const out = spawnSync('taskset', ['-c', core, 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency',
    '-s', join(ROOT, 'bench', `guild-${workload}.lua`), url], { encoding: 'utf8' })
  if (out.status !== 0) throw new Error(`wrk failed: ${out.stderr}`)
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out.stdout)
  if (errors !== null) throw new Error(`${url}: ${errors[1]} non-2xx responses under load`)
  return {
    requests: Number(/(\d+) requests in/.exec(out.stdout)?.[1]),
    rps: Number(/Requests\/sec:\s+([0-9.]+)/.exec(out.stdout)?.[1]),
    p50Ms: toMs(/ 50%\s+(\S+)/.exec(out.stdout)?.[1]),
    p99Ms: toMs(/ 99%\s+(\S+)/.exec(out.stdout)?.[1])
  }
}

function toMs (text: string | undefined): number {
  const m = /^([0-9.]+)(us|ms|s)$/.exec(text ?? '')
  if (m === null) return Number.NaN
  const v = Number(m[1])
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v
}

/** Peak resident memory (VmHWM) of the given processes, in MiB. */
export function peakRssMiB (pids: number[]): number {
  return statusSumMiB(pids, 'VmHWM')
}

/** Resident memory now (VmRSS) of the given processes, in MiB. */
export function rssMiB (pids: number[]): number {
  return statusSumMiB(pids, 'VmRSS')
}

function statusSumMiB (pids: number[], field: 'VmHWM' | 'VmRSS'): number {
  let kib = 0
  for (const pid of pids) {
    const file = `/proc/${pid}/status`
    if (!existsSync(file)) continue
    kib += Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(file, 'utf8'))?.[1] ?? 0)
  }
  return kib / 1024
}

/**
 * CPU time (user + system) the given processes have used so far, in seconds.
 * Per request, it is what a proxy costs whatever else the machine runs.
 */
export function cpuSeconds (pids: number[]): number {
  let ticks = 0
  for (const pid of pids) {
    const file = `/proc/${pid}/stat`
    if (!existsSync(file)) continue
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(file, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(fields[11]) + Number(fields[12])
  }
  return ticks / CLOCK_TICKS
}

// USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK).
const CLOCK_TICKS = 100

/** Child pids (nginx's workers). */
export function childPids (pid: number): number[] {
  const out = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
  return out.stdout.split('\n').filter(Boolean).map(Number)
}

export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

export function machine (): string {
  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU'
  const cores = readFileSync('/proc/cpuinfo', 'utf8').match(/^processor\s*:/gm)?.length ?? 0
  const memGiB = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024 / 1024
  return `${cpu}, ${cores} cores, ${memGiB.toFixed(0)} GiB, Node ${process.version}`
}
