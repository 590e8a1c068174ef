import { execFileSync } from 'node:child_process'

/**
 * Address ranges for what a test creates on the host (a podman network, a
 * node's pods and Services): the first candidate that overlaps nothing the
 * machine already has, so test traffic never leaves for a real network.
 */
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

export function ipv4 (text: string): number {
  return text.split('.').reduce((n, octet) => (n * 256) + Number(octet), 0)
}
