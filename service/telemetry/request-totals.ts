/**
 * Requests answered since start, per pod slot: a count per status class and
 * a latency histogram. Recording is three array increments and a short scan
 * of the bounds; nothing is allocated and no label key is built. Prometheus
 * reads the arrays when it scrapes (metrics.ts), which is where the cost of
 * labels belongs.
 *
 * Slot 0 is "no pod chosen"; pod n is slot n + 1.
 */
export class RequestTotals {
  /** Upper bounds of the latency buckets, seconds; a last, unbounded bucket follows. */
  readonly bounds: readonly number[]
  readonly classes: readonly string[]
  readonly slots: number
  readonly #counts: Float64Array
  readonly #buckets: Float64Array
  readonly #sums: Float64Array
  readonly #totals: Float64Array

  constructor (slots: number, classes: readonly string[], bounds: readonly number[]) {
    this.slots = slots
    this.classes = classes
    this.bounds = bounds
    this.#counts = new Float64Array(slots * classes.length)
    this.#buckets = new Float64Array(slots * (bounds.length + 1))
    this.#sums = new Float64Array(slots)
    this.#totals = new Float64Array(slots)
  }

  record (slot: number, classIndex: number, seconds: number): void {
    if (slot < 0 || slot >= this.slots) return
    const c = slot * this.classes.length + classIndex
    this.#counts[c] = (this.#counts[c] ?? 0) + 1
    const bounds = this.bounds
    let b = 0
    while (b < bounds.length && seconds > (bounds[b] as number)) b++
    const bucket = slot * (bounds.length + 1) + b
    this.#buckets[bucket] = (this.#buckets[bucket] ?? 0) + 1
    this.#sums[slot] = (this.#sums[slot] ?? 0) + seconds
    this.#totals[slot] = (this.#totals[slot] ?? 0) + 1
  }

  count (slot: number, classIndex: number): number {
    return this.#counts[slot * this.classes.length + classIndex] ?? 0
  }

  /** Observations at or below each bound, cumulative as Prometheus wants them, then the total. */
  cumulative (slot: number): number[] {
    const width = this.bounds.length + 1
    const out: number[] = []
    let acc = 0
    for (let b = 0; b < width; b++) {
      acc += this.#buckets[slot * width + b] ?? 0
      out.push(acc)
    }
    return out
  }

  sum (slot: number): number {
    return this.#sums[slot] ?? 0
  }

  total (slot: number): number {
    return this.#totals[slot] ?? 0
  }
}
