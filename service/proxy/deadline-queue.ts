/**
 * Something with a deadline: the queue links entries through these fields,
 * so joining and leaving it allocate nothing.
 */
export interface DeadlineEntry {
  deadlineAt: number
  deadlinePrev: DeadlineEntry | undefined
  deadlineNext: DeadlineEntry | undefined
  /** The deadline passed while the entry was still queued. */
  expire (): void
}

/**
 * Every request's deadline, with one timer for all of them. Every request
 * gets the same time from when it joins, so the order requests join in is
 * the order their deadlines pass: a FIFO list is sorted by deadline for
 * free, and joining and leaving it are O(1). A `setTimeout` per request cost a Timeout object,
 * a clock read and a list insertion each (see the README's performance
 * section).
 *
 * The timer is armed for the oldest entry. Entries usually leave long
 * before their deadline; when the timer fires it expires whatever is due
 * and re-arms for the new oldest one, so an idle queue holds no timer.
 */
export class DeadlineQueue {
  readonly lengthMs: number
  #head: DeadlineEntry | undefined
  #tail: DeadlineEntry | undefined
  #timer: NodeJS.Timeout | undefined
  readonly #now: () => number

  /** `now` is a monotonic clock in ms (performance.now by default). */
  constructor (lengthMs: number, now: () => number = () => performance.now()) {
    this.lengthMs = lengthMs
    this.#now = now
  }

  /** Queues `entry`, due `lengthMs` from now. */
  add (entry: DeadlineEntry): void {
    entry.deadlineAt = this.#now() + this.lengthMs
    entry.deadlinePrev = this.#tail
    entry.deadlineNext = undefined
    if (this.#tail === undefined) this.#head = entry
    else this.#tail.deadlineNext = entry
    this.#tail = entry
    this.#timer ??= this.#arm(entry.deadlineAt)
  }

  /** Takes `entry` out; harmless when it is not queued. */
  remove (entry: DeadlineEntry): void {
    if (entry.deadlinePrev === undefined && this.#head !== entry) return
    const { deadlinePrev: prev, deadlineNext: next } = entry
    if (prev === undefined) this.#head = next
    else prev.deadlineNext = next
    if (next === undefined) this.#tail = prev
    else next.deadlinePrev = prev
    entry.deadlinePrev = undefined
    entry.deadlineNext = undefined
  }

  /** Entries queued, counted: for tests and the status page, not the hot path. */
  get size (): number {
    let n = 0
    for (let e = this.#head; e !== undefined; e = e.deadlineNext) n++
    return n
  }

  #arm (at: number): NodeJS.Timeout {
    // Unref'd: a queued request has sockets that keep the process alive; an
    // empty queue's leftover timer must not.
    return setTimeout(() => this.#fire(), Math.max(0, Math.ceil(at - this.#now()))).unref()
  }

  #fire (): void {
    this.#timer = undefined
    const now = this.#now()
    let head = this.#head
    while (head !== undefined && head.deadlineAt <= now) {
      this.remove(head)
      head.expire()
      head = this.#head
    }
    if (head !== undefined) this.#timer = this.#arm(head.deadlineAt)
  }
}
