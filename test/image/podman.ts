import { execFile, execFileSync } from 'node:child_process'
import { join } from 'node:path'

export const ROOT = join(__dirname, '..', '..')

export interface Result { readonly code: number, readonly stdout: string, readonly stderr: string }

/**
 * The environment that points podman at the image test's own configuration
 * and storage (scripts/image/podman-env.sh writes it), never the machine's.
 */
export function podmanEnv (): Record<string, string> {
  const text = execFileSync(join(ROOT, 'scripts/image/podman-env.sh'), { encoding: 'utf8' })
  const env: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return { ...process.env as Record<string, string>, ...env }
}

/** Runs podman with that environment; resolves with the exit code whatever it is. */
export function podmanTry (env: Record<string, string>, args: readonly string[], timeoutMs = 120_000): Promise<Result> {
  return new Promise(resolve => {
    execFile('podman', args, { env, timeout: timeoutMs, maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout, stderr })
    })
  })
}

/** Like podmanTry, but rejects with podman's stderr unless it exits 0. */
export async function podman (env: Record<string, string>, args: readonly string[], timeoutMs?: number): Promise<string> {
  const r = await podmanTry(env, args, timeoutMs)
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
  return r.stdout
}

/** Every IPv4 network the machine has an address or a route in, as [base, prefix]. */
export function machineNetworks (): Array<readonly [number, number]> {
  const nets: Array<readonly [number, number]> = []
  const addrs = JSON.parse(execFileSync('ip', ['-j', '-4', 'addr'], { encoding: 'utf8' })) as
    Array<{ addr_info?: Array<{ local: string, prefixlen: number }> }>
  for (const link of addrs) for (const a of link.addr_info ?? []) nets.push([ipv4(a.local), a.prefixlen])
  const routes = JSON.parse(execFileSync('ip', ['-j', '-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' })) as
    Array<{ dst: string }>
  for (const r of routes) {
    if (r.dst === 'default' || r.dst === undefined) continue
    const [base = '', prefix] = r.dst.split('/')
    if (/^\d+\.\d+\.\d+\.\d+$/.test(base)) nets.push([ipv4(base), prefix === undefined ? 32 : Number(prefix)])
  }
  return nets
}

/** The first /24 of `candidates` that overlaps none of `taken`. */
export function freeSubnet (taken: ReadonlyArray<readonly [number, number]>, candidates: readonly string[]): string {
  for (const c of candidates) {
    const [base = '', prefix = '24'] = c.split('/')
    const net = [ipv4(base), Number(prefix)] as const
    if (!taken.some(t => overlaps(t, net))) return c
  }
  throw new Error(`every candidate subnet overlaps a network of this machine: ${candidates.join(', ')}`)
}

function overlaps (a: readonly [number, number], b: readonly [number, number]): boolean {
  const prefix = Math.min(a[1], b[1])
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0
  return ((a[0] & mask) >>> 0) === ((b[0] & mask) >>> 0)
}

function ipv4 (text: string): number {
  return text.split('.').reduce((n, octet) => (n * 256) + Number(octet), 0)
}
