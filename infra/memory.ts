/**
 * The router's memory, as `npm run bench` measured it at full load on one
 * core (README: Memory): about 100 MiB is resident outside V8's old
 * generation (the Node binary's pages, 54 MiB; the young generation, two
 * 8 MiB semi-spaces as the image's CMD sets them; compiled code; sockets and
 * native buffers), and the old generation holds about 25 MiB of live
 * objects. The rest of a pod's limit is what the old generation may grow to.
 */
export const ROUTER_OUTSIDE_OLD_SPACE_MIB = 100
/** Below this the old generation would get less than twice its live size, and V8 would collect constantly. */
export const ROUTER_MIN_MEMORY_LIMIT_MIB = 160

const UNITS: Readonly<Record<string, number>> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60
}

/** A Kubernetes memory quantity (`192Mi`, `0.5Gi`, `200M`, `268435456`) in MiB. */
export function quantityMiB (quantity: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$/.exec(quantity)
  const unit = m === null ? undefined : UNITS[m[2] as string]
  if (m === null || unit === undefined) throw new RangeError(`not a memory quantity: ${JSON.stringify(quantity)}`)
  return Number(m[1]) * unit / 2 ** 20
}

/**
 * NODE_OPTIONS for a router under `memoryLimit`: the old generation is
 * capped at what the limit leaves, so V8 collects before the kernel's OOM
 * killer acts. Node sizes the heap from the cgroup limit on its own, but
 * generously: in a 192 MiB cgroup it allowed 259 MiB.
 */
export function routerNodeOptions (memoryLimit: string): string {
  return `--max-old-space-size=${Math.floor(quantityMiB(memoryLimit)) - ROUTER_OUTSIDE_OLD_SPACE_MIB}`
}
