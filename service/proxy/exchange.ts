import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { RouterConfig } from '../config'
import { GatewayTimeoutError, GatewayUnavailableError, type RouterError } from '../errors'
import { CLIENT_CLOSED, RESPONSE_CUT, type RouterMetrics } from '../telemetry/metrics'
import type { GuildId } from '../routing/guild-id'
import { Attempt, type AttemptOwner } from './attempt'
import type { Logger } from '../telemetry/logger'
import type { DeadlineEntry, DeadlineQueue } from './deadline-queue'
import type { GatewayPools } from './gateway-pools'
import type { PodHealth } from './pod-health'
import type { RetryBudget } from './retry-budget'
import { OWNER_HEADER, REFUSAL_HEADER, TOPOLOGY_COUNT_HEADER } from '../routing/gateway-contract'
import { decideRefusal, ownerAfterScaleDown, waitForOwner } from './refusal-policy'
import { candidatePod, decideRetry, isRetryableStatus, nextCandidate, parseRetryAfter, type RetrySettings } from './retry-policy'
import { sendError } from './send-error'
import type { UpstreamFailure } from './upstream-failure'

export type Body = Buffer | Readable | null

/** What every exchange of one forwarder shares (made once in forwarder.ts). */
export interface ExchangeDeps {
  readonly config: RouterConfig
  readonly pools: GatewayPools
  readonly health: PodHealth
  readonly budget: RetryBudget
  readonly metrics?: RouterMetrics
  readonly logger?: Logger
  readonly retrySettings: RetrySettings
  readonly deadlines: DeadlineQueue
  /** The routing strategy, for the owner under a count the gateways report. */
  readonly pick: (guildId: string, numPods: number) => number
  /** The pod count the last gateway 421 reported (refusal-policy.ts, ownerAfterScaleDown). */
  readonly heard: { count: number | undefined }
}

export interface ForwardRequest {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly started: number
  readonly requestId: string
  readonly guildId: GuildId | undefined
  /** The owner pod, from the strategy alone. */
  readonly owner: number
  readonly body: Body
  /** The origin-form target (path and query) the gateway receives. */
  readonly target: string
  /** The header list the gateway receives (upstream-headers.ts). */
  readonly headers: string[]
}

type Failure = UpstreamFailure

const ADMITTED = { kind: 'send' } as const

function single (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/**
 * One client request from its arrival to its answer: every attempt, the
 * retries between them and the deadline over all of them. The state lives
 * on the instance and the steps are methods, so a request costs one object
 * here and one Attempt per try, not a closure per step.
 *
 * What is retried, and why it is safe, is the Forwarder's contract
 * (forwarder.ts); this class carries it out.
 */
export class Exchange implements AttemptOwner, DeadlineEntry {
  deadlineAt = 0
  deadlinePrev: DeadlineEntry | undefined = undefined
  deadlineNext: DeadlineEntry | undefined = undefined

  readonly res: ServerResponse
  readonly requestId: string
  readonly #deps: ExchangeDeps
  readonly #request: ForwardRequest
  readonly #method: string
  readonly #replayable: boolean
  #attempts = 0
  #candidate = 0 // index into owner, owner+1, … when failing over
  #current: Attempt | undefined = undefined
  #currentPod: number
  /** The owner a gateway's `not_owner` named, once followed; every later attempt goes there. */
  #redirectPod: number | undefined = undefined
  #lastFailure: Failure | undefined = undefined
  #retryTimer: NodeJS.Timeout | undefined = undefined
  #holdingRetrySlot = false
  #done = false

  constructor (deps: ExchangeDeps, request: ForwardRequest) {
    this.#deps = deps
    this.#request = request
    this.res = request.res
    this.requestId = request.requestId
    this.#method = request.req.method ?? 'GET'
    this.#replayable = request.body === null || Buffer.isBuffer(request.body)
    this.#currentPod = request.owner
  }

  start (): void {
    this.#deps.budget.requestStarted()
    this.#deps.deadlines.add(this)
    // Also fires after a normal finish, when #done already holds.
    this.res.on('close', () => this.#clientClosed())
    this.#send()
  }

  /** Attempt hook: response headers arrived. */
  response (attempt: Attempt, status: number, headers: Record<string, string | string[] | undefined>): 'stream' | 'discard' {
    if (this.#done || attempt !== this.#current) return 'discard'
    const pod = attempt.pod
    if (pod < this.#deps.config.numGatewayPods) this.#deps.health.succeeded(pod)
    this.#releaseRetrySlot()
    if (isRetryableStatus(status)) {
      const retryAfterMs = status === 503 ? parseRetryAfter(headers['retry-after']) : undefined
      const failure: Failure = { delivery: 'maybe-received', error: new GatewayUnavailableError(pod, `answered ${status}`) }
      if (this.#tryRetry(pod, failure, retryAfterMs, `gateway answered ${status}`)) return 'discard'
    }
    // Off the common path: one comparison for every other status.
    if (status === 421 && this.#ownershipRefused(pod, headers)) return 'discard'
    // The deadline covers waiting for an answer; a body in flight has the body timeout.
    this.#deps.deadlines.remove(this)
    return 'stream'
  }

  /** Attempt hook: no usable response. */
  failed (attempt: Attempt, failure: Failure, headersSent: boolean): void {
    if (this.#done || attempt !== this.#current) return
    const pod = attempt.pod
    if (pod < this.#deps.config.numGatewayPods) this.#deps.health.failed(pod, failure.delivery)
    this.#releaseRetrySlot()
    this.#deps.metrics?.upstreamError(pod, failure.error.code)
    this.#lastFailure = failure
    if (!headersSent && failure.delivery === 'never-sent') {
      if (pod === this.#redirectPod && this.#waitForRedirect(pod)) return
      if (this.#rerouteAfterScaleDown(pod)) {
        this.#retryTimer = setTimeout(() => this.#send(), 0)
        return
      }
    }
    if (headersSent) {
      this.#decision('cut', pod, failure, 'failed mid-response; client connection closed')
      this.#finish(RESPONSE_CUT, pod)
      return
    }
    if (this.#tryRetry(pod, failure, undefined, failure.error.message)) return
    this.#finishWithError(failure.error, pod, failure.delivery === 'never-sent' ? this.#retryAfterFor(pod) : undefined)
  }

  /** Attempt hook: the response has been streamed whole. */
  completed (attempt: Attempt): void {
    this.#finish(this.res.statusCode, attempt.pod)
  }

  /** Deadline queue hook: no answer in time. */
  expire (): void {
    if (this.#done) return
    const pod = this.#currentPod
    const { health, pools, config, metrics } = this.#deps
    // The truth at the deadline: a pod that has the request → 504; one never
    // reached (still connecting, or only unreachable pods so far) → 503.
    const waitingOnPod = this.#retryTimer === undefined
    const unsent = waitingOnPod && this.#current !== undefined && !this.#current.started
    const reached = waitingOnPod && !unsent
    const timedOut = reached || (!unsent && (this.#lastFailure === undefined || this.#lastFailure.delivery !== 'never-sent'))
    const error = timedOut
      ? new GatewayTimeoutError(pod, 'no response before the request deadline')
      : new GatewayUnavailableError(pod, unsent ? 'no connection before the request deadline' : 'unreachable until the request deadline')
    this.#current?.abort(error)
    if (pod < config.numGatewayPods) {
      if (reached) health.failed(pod, 'maybe-received')
      // A connect that outlasted the deadline is a connection failure, as a
      // refused one is: a pod whose SYNs are dropped (its node gone) must be
      // ejected like any other. Waiting behind busy connections is not.
      else if (unsent && pools.pool(pod).stats.connected === 0) health.failed(pod, 'never-sent')
    }
    metrics?.upstreamError(pod, error.code)
    this.#decision('give-up', pod, { delivery: reached ? 'maybe-received' : 'never-sent', error }, 'request deadline reached')
    this.#finishWithError(error, pod, error.status === 503 ? this.#retryAfterFor(pod) : undefined)
  }

  #send (): void {
    this.#retryTimer = undefined
    if (this.#done) return
    const { config, health, pools, metrics } = this.#deps
    const { owner } = this.#request
    const numPods = config.numGatewayPods
    const redirect = this.#redirectPod
    let pod = redirect ?? candidatePod(owner, this.#candidate, numPods)
    // A pod past this router's count (a scale-up's new pod) has no health slot here.
    let admission = pod < numPods ? health.admit(pod) : ADMITTED
    // Fail over past ejected pods without spending attempts, when allowed.
    while (redirect === undefined && admission.kind === 'reject') {
      const next = nextCandidate(config.failover, this.#candidate, numPods)
      if (next === undefined) break
      this.#candidate = next
      pod = candidatePod(owner, next, numPods)
      admission = health.admit(pod)
    }
    // An ejected pod past the count the gateways report: its guilds live elsewhere now.
    if (admission.kind === 'reject' && redirect === undefined && this.#rerouteAfterScaleDown(pod)) {
      pod = this.#redirectPod!
      admission = pod < numPods ? health.admit(pod) : ADMITTED
    }
    if (admission.kind === 'reject') {
      const error = new GatewayUnavailableError(pod, `ejected after repeated connection failures; retry in ${Math.ceil(admission.retryAfterMs / 1000)} s`)
      this.#decision('fail-fast', pod, { delivery: 'never-sent', error }, `ejected for ${admission.retryAfterMs} ms more`)
      this.#finishWithError(error, pod, admission.retryAfterMs)
      return
    }
    this.#attempts++
    this.#currentPod = pod
    let headers = this.#request.headers
    if (pod !== owner && this.#redirectPod === undefined) {
      metrics?.failover(owner)
      headers = [...headers, 'x-gateway-failover', String(owner)]
    }
    const attempt = new Attempt(this, pod)
    this.#current = attempt
    // A Buffer can be sent again; a stream only once, and retries check for that.
    pools.pool(pod).dispatch({ path: this.#request.target, method: this.#method, headers, body: this.#request.body }, attempt)
  }

  #clientClosed (): void {
    if (this.#done) return
    // The client hung up: stop the gateway's work on its behalf too.
    this.#current?.abort(new Error('client closed the connection'))
    this.#finish(CLIENT_CLOSED, this.#currentPod)
  }

  /** Schedules another attempt if the policy, the deadline and the budget allow. */
  #tryRetry (pod: number, failure: Failure, retryAfterMs: number | undefined, what: string): boolean {
    const { config, budget, metrics, retrySettings } = this.#deps
    const verdict = decideRetry({
      method: this.#method,
      bodyReplayable: this.#replayable,
      attempts: this.#attempts,
      remainingMs: this.deadlineAt - performance.now(),
      delivery: failure.delivery,
      retryAfterMs
    }, retrySettings)
    if (!verdict.retry) {
      this.#decision('give-up', pod, failure, `${what}: ${verdict.reason}`)
      return false
    }
    if (!budget.tryAcquire()) {
      metrics?.budgetExhausted()
      this.#decision('give-up', pod, failure, `${what}: retry budget exhausted`)
      return false
    }
    this.#holdingRetrySlot = true
    // Failing over only makes sense when the owner could not be reached or is refusing.
    this.#candidate = nextCandidate(config.failover, this.#candidate, config.numGatewayPods) ?? this.#candidate
    metrics?.retry(pod, retryAfterMs === undefined ? failure.delivery : 'retry-after')
    this.#decision('retry', pod, failure, what, verdict.delayMs)
    this.#retryTimer = setTimeout(() => this.#send(), verdict.delayMs)
    return true
  }

  /** A gateway's 421: follow a `not_owner` once, or wait for a pending owner, when that is safe and fits the deadline. */
  #ownershipRefused (pod: number, headers: Record<string, string | string[] | undefined>): boolean {
    const { config, pools, metrics, heard } = this.#deps
    const count = single(headers[TOPOLOGY_COUNT_HEADER])
    if (count !== undefined && /^[1-9][0-9]{0,5}$/.test(count)) heard.count = Number(count)
    const action = decideRefusal({
      refusal: single(headers[REFUSAL_HEADER]),
      owner: single(headers[OWNER_HEADER]),
      pod,
      bodyReplayable: this.#replayable,
      redirected: this.#redirectPod !== undefined,
      reachable: n => pools.reachable(n),
      remainingMs: this.deadlineAt - performance.now(),
      pendingRetryMs: config.ownershipRetryMs
    })
    metrics?.ownershipRefusal(pod, action.act)
    if (action.act === 'pass') return false
    if (action.act === 'redirect') this.#redirectPod = action.pod
    // Nothing ran at the gateway, so this is not a retry: no attempt or budget is spent.
    this.#retryTimer = setTimeout(() => this.#send(), action.act === 'wait' ? action.delayMs : 0)
    return true
  }

  /** A pod gone after a scale-down this router has not rolled for yet: send to the owner under the gateways' count. */
  #rerouteAfterScaleDown (pod: number): boolean {
    const { config, pools, metrics, heard, pick } = this.#deps
    const owner = ownerAfterScaleDown({
      pod,
      numPods: config.numGatewayPods,
      heardCount: heard.count,
      guildId: this.#request.guildId,
      pick,
      reachable: n => pools.reachable(n),
      bodyReplayable: this.#replayable,
      redirected: this.#redirectPod !== undefined
    })
    if (owner === undefined) return false
    this.#redirectPod = owner
    metrics?.ownershipRefusal(pod, 'reroute')
    return true
  }

  /** The owner a gateway named could not be reached yet: wait for it like a pending owner. */
  #waitForRedirect (pod: number): boolean {
    const { config, metrics } = this.#deps
    const action = waitForOwner({ bodyReplayable: this.#replayable, remainingMs: this.deadlineAt - performance.now(), pendingRetryMs: config.ownershipRetryMs })
    if (action.act !== 'wait') return false
    metrics?.ownershipRefusal(pod, 'wait')
    this.#retryTimer = setTimeout(() => this.#send(), action.delayMs)
    return true
  }

  #retryAfterFor (pod: number): number {
    if (pod >= this.#deps.config.numGatewayPods) return 1000
    const { ejectedUntil } = this.#deps.health.status(pod)
    return Math.max(1000, ejectedUntil - Date.now())
  }

  #finishWithError (error: RouterError, pod: number, retryAfterMs?: number): void {
    if (this.#done) return
    sendError(this.res, error, { pod, requestId: this.requestId, retryAfterMs, linger: this.#deps.config })
    this.#finish(error.status, pod)
  }

  #finish (status: number, pod: number): void {
    if (this.#done) return
    this.#done = true
    const { deadlines, budget, metrics, logger } = this.#deps
    deadlines.remove(this)
    clearTimeout(this.#retryTimer)
    this.#releaseRetrySlot()
    budget.requestEnded()
    const seconds = (performance.now() - this.#request.started) / 1000
    // Counted per pod of this router's count; a redirect past it counts under the owner it chose.
    metrics?.observe(pod < this.#deps.config.numGatewayPods ? pod : this.#request.owner, status, seconds, this.#request.guildId)
    // The access log is debug-level: at 10k req/s a line per request is the
    // dominant cost. Failure decisions are logged at warn.
    if (logger?.isLevelEnabled('debug') === true) {
      logger.debug({
        requestId: this.requestId,
        guildId: this.#request.guildId,
        method: this.#method,
        owner: this.#request.owner,
        pod,
        status,
        durationMs: Math.round(seconds * 1e4) / 10,
        attempts: this.#attempts,
        failureClass: this.#lastFailure?.delivery,
        code: this.#lastFailure?.error.code
      }, 'request')
    }
  }

  #releaseRetrySlot (): void {
    if (!this.#holdingRetrySlot) return
    this.#holdingRetrySlot = false
    this.#deps.budget.release()
  }

  #decision (what: string, pod: number, failure: Failure, reason: string, delayMs?: number): void {
    this.#deps.logger?.warn({
      requestId: this.requestId,
      guildId: this.#request.guildId,
      method: this.#method,
      owner: this.#request.owner,
      pod,
      attempt: this.#attempts,
      decision: what,
      delivery: failure.delivery,
      code: failure.error.code,
      reason,
      delayMs
    }, `${what}: ${failure.error.message}`)
  }
}
