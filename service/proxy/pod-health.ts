import type { Delivery } from './upstream-failure'

/**
 * Passive health of each gateway pod, as this router replica has seen it.
 *
 * Health never changes who owns a guild — that would make replicas disagree,
 * since each ejects on its own evidence. It only decides whether a request
 * for an unreachable owner fails fast (503 with Retry-After) instead of each
 * one waiting out a connect timeout.
 *
 * Only never-sent failures (refused, unresolvable, connect timeout) count:
 * they prove the pod is unreachable. A gateway that answers, even with 5xx,
 * is reachable.
 */
export type PodState = 'up' | 'ejected' | 'half-open'

export interface EjectionSettings {
  readonly consecutiveFailures: number
  readonly baseMs: number
  readonly maxMs: number
}

export type Admission =
  | { readonly kind: 'send' }
  /** The one request let through to test a pod whose ejection has expired. */
  | { readonly kind: 'probe' }
  | { readonly kind: 'reject', readonly retryAfterMs: number }

export interface PodStatus {
  readonly state: PodState
  readonly consecutiveFailures: number
  readonly ejections: number
  /** Epoch ms; 0 when not ejected. */
  readonly ejectedUntil: number
  /** Epoch ms of the latest ejection; 0 while up. */
  readonly ejectedAt: number
}

interface Slot {
  state: PodState
  consecutive: number
  ejections: number
  ejectedUntil: number
  lastEjectedAt: number
  probeInFlight: boolean
  /** Fires when the ejection ends, so the state readers see changes then. */
  expiry: NodeJS.Timeout | undefined
}

export type StateListener = (pod: number, status: PodStatus, why: string) => void

export class PodHealth {
  readonly #slots: Slot[]
  readonly #settings: EjectionSettings
  readonly #now: () => number
  readonly #listeners: StateListener[] = []

  constructor (numPods: number, settings: EjectionSettings, now: () => number = Date.now) {
    this.#settings = settings
    this.#now = now
    this.#slots = Array.from({ length: numPods }, () => ({
      // Stryker disable next-line BooleanLiteral: equivalent, probeInFlight is read only when half-open, and the failures that eject a pod reset it first
      state: 'up', consecutive: 0, ejections: 0, ejectedUntil: 0, lastEjectedAt: 0, probeInFlight: false, expiry: undefined
    }))
  }

  onChange (listener: StateListener): void {
    this.#listeners.push(listener)
  }

  admit (pod: number): Admission {
    const s = this.#slot(pod)
    if (s.state === 'up') return SEND
    if (s.state === 'ejected') {
      const now = this.#now()
      if (now < s.ejectedUntil) return { kind: 'reject', retryAfterMs: s.ejectedUntil - now }
      this.#expire(pod)
    }
    if (s.probeInFlight) return { kind: 'reject', retryAfterMs: this.#settings.baseMs }
    s.probeInFlight = true
    return PROBE
  }

  /** The pod answered (any status): it is reachable. */
  succeeded (pod: number): void {
    const s = this.#slot(pod)
    s.consecutive = 0
    // Stryker disable next-line BooleanLiteral: equivalent, the pod is up after this and the next ejection's failures reset the flag anyway; kept so the slot never says a probe is out when none is
    s.probeInFlight = false
    // A pod that stayed healthy for a full maximum ejection starts over.
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, setting 0 to 0; the ejections test only skips the clock read
    if (s.ejections > 0 && this.#now() - s.lastEjectedAt > this.#settings.maxMs) s.ejections = 0
    if (s.state !== 'up') this.#set(pod, 'up', 'answered')
  }

  failed (pod: number, delivery: Delivery): void {
    const s = this.#slot(pod)
    const wasProbe = s.probeInFlight
    s.probeInFlight = false
    if (delivery !== 'never-sent') return
    s.consecutive++
    // Stryker disable next-line ConditionalExpression: equivalent, only admit() in half-open makes a probe, so wasProbe implies half-open; the state test says which rule this is
    if (s.state === 'half-open' && wasProbe) this.#eject(pod, 'probe failed')
    else if (s.state === 'up' && s.consecutive >= this.#settings.consecutiveFailures) {
      this.#eject(pod, `${s.consecutive} consecutive connection failures`)
    }
  }

  /** An active health check got an answer: bring the pod back now. */
  answering (pod: number): void {
    const s = this.#slot(pod)
    if (s.state === 'up') return
    s.consecutive = 0
    // Stryker disable next-line BooleanLiteral: equivalent, as in succeeded()
    s.probeInFlight = false
    this.#set(pod, 'up', 'health check answered')
  }

  /**
   * What the next request to `pod` will meet. An ejection whose time has
   * passed reads as half-open even if no request has come since, so the
   * status page and the gauge follow the clock, not the traffic.
   */
  status (pod: number): PodStatus {
    const s = this.#slot(pod)
    if (s.state === 'ejected' && this.#now() >= s.ejectedUntil) this.#expire(pod)
    return snapshot(s)
  }

  get size (): number {
    return this.#slots.length
  }

  #eject (pod: number, why: string): void {
    const s = this.#slot(pod)
    s.ejections++
    const now = this.#now()
    // Each ejection in a row lasts twice as long as the last, up to the cap.
    const duration = Math.min(this.#settings.maxMs, this.#settings.baseMs * 2 ** (s.ejections - 1))
    s.ejectedUntil = now + duration
    s.lastEjectedAt = now
    s.consecutive = 0
    this.#set(pod, 'ejected', `${why}; ejected for ${duration} ms`)
    // Stryker disable next-line CallExpression: not observable, an old timer left running is unref'd and its status() read changes nothing
    clearTimeout(s.expiry)
    // Unref'd: a pending expiry must never keep a stopping process alive. The
    // extra millisecond keeps it from firing before the clock reaches the end.
    // Stryker disable next-line ArithmeticOperator: timers fire late, so 1 ms early is not observable in a test; the margin is for the clock's edge
    s.expiry = setTimeout(() => { s.expiry = undefined; this.status(pod) }, duration + 1).unref()
  }

  #expire (pod: number): void {
    const s = this.#slot(pod)
    // Stryker disable next-line CallExpression: not observable, as in #eject
    clearTimeout(s.expiry)
    s.expiry = undefined
    this.#set(pod, 'half-open', 'ejection expired')
  }

  #set (pod: number, state: PodState, why: string): void {
    const s = this.#slot(pod)
    s.state = state
    // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement,CallExpression: not observable, a pending expiry that fires on an up pod reads its status and changes nothing; clearing it only saves the wake-up
    if (state === 'up') { clearTimeout(s.expiry); s.expiry = undefined }
    const status = snapshot(s)
    for (const listener of this.#listeners) listener(pod, status, why)
  }

  #slot (pod: number): Slot {
    const s = this.#slots[pod]
    if (s === undefined) throw new RangeError(`no gateway pod ${pod}`)
    return s
  }
}

function snapshot (s: Slot): PodStatus {
  const up = s.state === 'up'
  return {
    state: s.state,
    consecutiveFailures: s.consecutive,
    ejections: s.ejections,
    ejectedUntil: up ? 0 : s.ejectedUntil,
    ejectedAt: up ? 0 : s.lastEjectedAt
  }
}

const SEND: Admission = { kind: 'send' }
const PROBE: Admission = { kind: 'probe' }
