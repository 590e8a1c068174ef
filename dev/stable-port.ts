import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/**
 * Ports for a process that listens later, and again on the same port after a
 * restart, the way a gateway pod keeps its DNS name (`npm start`'s gateways,
 * the tests' stateful tiers).
 *
 * A port from `listen(0)` comes from the kernel's ephemeral range, which every
 * outgoing connection on the machine also draws from, so by the time the pod
 * (re)starts a client socket may hold it (seen in CI: EADDRINUSE when a
 * scale-up started gateway-3 on the port it had been given a minute before).
 * These come from below that range instead, where only listeners live, and
 * each caller takes its own stripe of it: two processes that reserve at once
 * cannot hand out the same port, and a probe skips ports someone listens on.
 */
export const STRIPES = 16

/** Per stripe, the next port to try: a port handed out is not free until its process listens. */
const cursors = new Map<number, number>()

/** A port free on every one of `hosts` (a tier that gives each pod its own loopback address uses one port on all). */
export async function stablePort (hosts: string | readonly string[], stripe: number): Promise<number> {
  const all = typeof hosts === 'string' ? [hosts] : hosts
  const [low, high] = stableRange()
  const width = Math.floor((high - low) / STRIPES)
  const first = low + (stripe % STRIPES) * width
  const from = cursors.get(first) ?? first
  for (let tries = 0; tries < width; tries++) {
    const port = first + ((from - first + tries) % width)
    if (await everyBindable(all, port)) {
      cursors.set(first, port + 1)
      return port
    }
  }
  throw new Error(`no free port in ${first}-${first + width - 1} on ${all.join(', ')}`)
}

/** Below the ephemeral range (Linux default 32768-60999), or above it if that leaves more room. */
function stableRange (): [number, number] {
  let lo = 32768
  let hi = 60999
  try {
    const [a, b] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
    if (Number.isInteger(a) && Number.isInteger(b)) { lo = a!; hi = b! }
  } catch { /* not Linux: keep the default */ }
  return lo - 10_000 >= 65_535 - hi ? [10_000, lo] : [hi + 1, 65_536]
}

async function everyBindable (hosts: readonly string[], port: number): Promise<boolean> {
  for (const host of hosts) if (!await bindable(host, port)) return false
  return true
}

async function bindable (host: string, port: number): Promise<boolean> {
  const server = createServer()
  try {
    server.listen(port, host)
    await once(server, 'listening')
    return true
  } catch {
    return false
  } finally {
    if (server.listening) {
      server.close()
      await once(server, 'close')
    }
  }
}
