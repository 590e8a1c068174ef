/**
 * The Space-Saving heavy-hitters summary (Metwally, Agrawal and El Abbadi,
 * "Efficient computation of frequent and top-k elements in data streams",
 * ICDT 2005) over at most `capacity` keys.
 *
 * Each monitored key has a count and the error it may carry. A key not
 * monitored takes the place of the one with the smallest count, inheriting
 * that count as its error, so a count never undercounts and overcounts by at
 * most its error. The smallest count never exceeds N / capacity after N
 * offers, which gives the bounds the status page states:
 * - every key seen more than N / capacity times is monitored;
 * - a reported count is at most N / capacity above the true one
 *   (`count - error` is a lower bound).
 *
 * The counters form a binary min-heap on count, so an offer costs one map
 * lookup and a sift of at most log2(capacity) steps: a hit only grows a count
 * (sift down), a miss replaces the root (sift down). No allocation on a hit.
 */
export interface HeavyHitter {
  readonly key: string
  /** An upper bound of how often the key was offered. */
  readonly count: number
  /** How much of `count` may belong to keys it replaced. */
  readonly error: number
}

export class SpaceSaving {
  readonly capacity: number
  /** Offers since the last reset. */
  total = 0
  readonly #keys: string[] = []
  readonly #counts: Float64Array
  readonly #errors: Float64Array
  /** Key → its index in the heap arrays. */
  readonly #index = new Map<string, number>()

  constructor (capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`)
    this.capacity = capacity
    this.#counts = new Float64Array(capacity)
    this.#errors = new Float64Array(capacity)
  }

  offer (key: string): void {
    this.total++
    const at = this.#index.get(key)
    if (at !== undefined) {
      this.#counts[at] = (this.#counts[at] as number) + 1
      this.#siftDown(at)
      return
    }
    const size = this.#keys.length
    if (size < this.capacity) {
      this.#keys.push(key)
      this.#counts[size] = 1
      this.#errors[size] = 0
      this.#index.set(key, size)
      this.#siftUp(size)
      return
    }
    // Full: the least counted key gives its place, and its count becomes the newcomer's error.
    const min = this.#counts[0] as number
    this.#index.delete(this.#keys[0] as string)
    this.#keys[0] = key
    this.#index.set(key, 0)
    this.#counts[0] = min + 1
    this.#errors[0] = min
    this.#siftDown(0)
  }

  /** The smallest monitored count once full, else 0: the most any key not listed can have been offered. */
  get floor (): number {
    return this.#keys.length < this.capacity ? 0 : this.#counts[0] as number
  }

  /** Every monitored key, most counted first. */
  entries (): HeavyHitter[] {
    return this.#keys
      .map((key, i) => ({ key, count: this.#counts[i] as number, error: this.#errors[i] as number }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
  }

  reset (): void {
    this.total = 0
    this.#keys.length = 0
    this.#index.clear()
  }

  #siftUp (i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((this.#counts[parent] as number) <= (this.#counts[i] as number)) return
      this.#swap(i, parent)
      i = parent
    }
  }

  #siftDown (i: number): void {
    const size = this.#keys.length
    for (;;) {
      const left = 2 * i + 1
      if (left >= size) return
      const right = left + 1
      const child = right < size && (this.#counts[right] as number) < (this.#counts[left] as number) ? right : left
      if ((this.#counts[i] as number) <= (this.#counts[child] as number)) return
      this.#swap(i, child)
      i = child
    }
  }

  #swap (a: number, b: number): void {
    const key = this.#keys[a] as string
    this.#keys[a] = this.#keys[b] as string
    this.#keys[b] = key
    const count = this.#counts[a] as number
    this.#counts[a] = this.#counts[b] as number
    this.#counts[b] = count
    const error = this.#errors[a] as number
    this.#errors[a] = this.#errors[b] as number
    this.#errors[b] = error
    this.#index.set(this.#keys[a] as string, a)
    this.#index.set(key, b)
  }
}
