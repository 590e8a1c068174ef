/**
 * Per-pod traffic over the last minute, for the status page: requests,
 * errors and an upper bound of the p99 latency. Sixty one-second buckets per
 * pod, each with a small fixed latency histogram, so recording costs a few
 * increments and the window slides by itself.
 */
const WINDOW_SECONDS = 60
// Upper edges in ms; the last bucket is everything slower.
const EDGES_MS = [0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 2500, 3000, 5000, 10000]

interface Bucket {
  second: number
  count: number
  errors: number
  latency: Uint32Array
}

export interface PodTraffic {
  readonly requests: number
  readonly errors: number
  /** errors ÷ requests, 0 when idle. */
  readonly errorRate: number
  /** Upper edge of the histogram bucket holding the 99th percentile; null when idle. */
  readonly p99Ms: number | null
}

export class RecentTraffic {
  readonly #pods: Bucket[][]
  readonly #now: () => number

  constructor (numPods: number, now: () => number = Date.now) {
    this.#now = now
    this.#pods = Array.from({ length: numPods }, () => Array.from({ length: WINDOW_SECONDS }, () => ({
      second: -1, count: 0, errors: 0, latency: new Uint32Array(EDGES_MS.length + 1)
    })))
  }

  /** `status` 0 or below means the client got no complete response: an error. */
  record (pod: number, status: number, seconds: number, nowMs = this.#now()): void {
    const buckets = this.#pods[pod]
    if (buckets === undefined) return
    const second = Math.floor(nowMs / 1000)
    const bucket = buckets[second % WINDOW_SECONDS] as Bucket
    if (bucket.second !== second) {
      bucket.second = second
      bucket.count = 0
      bucket.errors = 0
      bucket.latency.fill(0)
    }
    bucket.count++
    if (status <= 0 || status >= 500) bucket.errors++
    const ms = seconds * 1000
    let i = 0
    while (i < EDGES_MS.length && ms > (EDGES_MS[i] as number)) i++
    bucket.latency[i] = (bucket.latency[i] ?? 0) + 1
  }

  snapshot (pod: number): PodTraffic {
    const buckets = this.#pods[pod] ?? []
    const oldest = Math.floor(this.#now() / 1000) - WINDOW_SECONDS
    let requests = 0
    let errors = 0
    const latency = new Array<number>(EDGES_MS.length + 1).fill(0)
    for (const b of buckets) {
      if (b.second <= oldest) continue
      requests += b.count
      errors += b.errors
      b.latency.forEach((n, i) => { latency[i] = (latency[i] ?? 0) + n })
    }
    return { requests, errors, errorRate: requests === 0 ? 0 : errors / requests, p99Ms: percentile(latency, requests, 0.99) }
  }
}

function percentile (histogram: number[], total: number, q: number): number | null {
  if (total === 0) return null
  const rank = Math.ceil(total * q)
  let seen = 0
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] as number
    if (seen >= rank) return EDGES_MS[i] ?? Number.POSITIVE_INFINITY
  }
  return null
}
