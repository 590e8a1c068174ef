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
 * lookup and a sift of at most log2(capacity) steps over typed arrays: a hit
 * only grows a count (sift down), a miss replaces the root (sift down) and
 * writes the map twice. No allocation.
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
  // Each monitored key keeps its slot (index into keys, counts, errors) until
  // it is replaced; the min-heap orders slots, and `position` finds a slot in
  // it. Moving slots around the heap touches typed arrays only: the Map is
  // read once per offer and written only when a key is replaced.
  readonly #keys: string[] = []
  readonly #counts: Float64Array
  readonly #errors: Float64Array
  readonly #heap: Int32Array
  readonly #position: Int32Array
  readonly #slotOf = new Map<string, number>()

  constructor (capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`)
    this.capacity = capacity
    this.#counts = new Float64Array(capacity)
    this.#errors = new Float64Array(capacity)
    this.#heap = new Int32Array(capacity)
    this.#position = new Int32Array(capacity)
  }

  offer (key: string): void {
    this.total++
    const counts = this.#counts
    const known = this.#slotOf.get(key)
    if (known !== undefined) {
      counts[known] = (counts[known] as number) + 1
      this.#siftDown(this.#position[known] as number)
      return
    }
    const size = this.#keys.length
    if (size < this.capacity) {
      this.#keys.push(key)
      counts[size] = 1
      this.#errors[size] = 0
      this.#heap[size] = size
      this.#position[size] = size
      this.#slotOf.set(key, size)
      this.#siftUp(size)
      return
    }
    // Full: the least counted key gives its slot, and its count becomes the newcomer's error.
    const slot = this.#heap[0] as number
    const min = counts[slot] as number
    this.#slotOf.delete(this.#keys[slot] as string)
    this.#keys[slot] = key
    this.#slotOf.set(key, slot)
    counts[slot] = min + 1
    this.#errors[slot] = min
    this.#siftDown(0)
  }

  /** The smallest monitored count once full, else 0: the most any key not listed can have been offered. */
  get floor (): number {
    return this.#keys.length < this.capacity ? 0 : this.#counts[this.#heap[0] as number] as number
  }

  /** Every monitored key, most counted first. */
  entries (): HeavyHitter[] {
    return this.#keys
      .map((key, slot) => ({ key, count: this.#counts[slot] as number, error: this.#errors[slot] as number }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
  }

  reset (): void {
    this.total = 0
    this.#keys.length = 0
    this.#slotOf.clear()
  }

  #countAt (i: number): number {
    return this.#counts[this.#heap[i] as number] as number
  }

  #siftUp (i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.#countAt(parent) <= this.#countAt(i)) return
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
      const child = right < size && this.#countAt(right) < this.#countAt(left) ? right : left
      if (this.#countAt(i) <= this.#countAt(child)) return
      this.#swap(i, child)
      i = child
    }
  }

  #swap (a: number, b: number): void {
    const slotA = this.#heap[a] as number
    const slotB = this.#heap[b] as number
    this.#heap[a] = slotB
    this.#heap[b] = slotA
    this.#position[slotB] = a
    this.#position[slotA] = b
  }
}
