import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { RouterConfig } from '../config'
import { GatewayTimeoutError, GatewayUnavailableError, type RouterError } from '../errors'
import type { Logger } from '../logger'
import { CLIENT_CLOSED, RESPONSE_CUT, type RouterMetrics } from '../metrics'
import type { GuildId } from '../routing/guild-id'
import { Attempt } from './attempt'
import type { GatewayPools } from './gateway-pools'
import type { PodHealth } from './pod-health'
import { decideRetry, parseRetryAfter, type RetrySettings } from './retry-policy'
import type { RetryBudget } from './retry-budget'
import { sendError } from './send-error'
import { upstreamHeaders } from './upstream-headers'
import type { Delivery } from './upstream-failure'

export type Body = Buffer | Readable | null

export interface ForwarderDeps {
  readonly config: RouterConfig
  readonly pools: GatewayPools
  readonly health: PodHealth
  readonly budget: RetryBudget
  readonly metrics?: RouterMetrics
  readonly logger?: Logger
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
}

export type Forward = (request: ForwardRequest) => void

const RETRYABLE_STATUS = new Set([502, 503, 504])

/**
 * Sends a request to its owner, retrying only what is safe inside one
 * deadline that covers every attempt:
 * - never sent (refused, unresolvable, connect timeout): any method, again;
 * - maybe received (reset, 502/503/504 from the gateway): idempotent methods
 *   with a replayable body only; a gateway's Retry-After is honoured.
 * An ejected owner fails fast with 503 and Retry-After. With FAILOVER=next
 * (stateless gateways only) retries walk to the next ordinals instead, and the
 * request carries `x-gateway-failover: <owner>`.
 */
export function createForwarder (deps: ForwarderDeps): Forward {
  const { config, pools, health, budget, metrics, logger } = deps
  const numPods = config.numGatewayPods
  const settings: RetrySettings = {
    maxAttempts: config.retryMaxAttempts, baseDelayMs: config.retryBaseMs, maxDelayMs: config.retryMaxBackoffMs
  }

  return function forward (request) {
    const { req, res, started, requestId, guildId, owner, body, target } = request
    const method = req.method ?? 'GET'
    const deadlineAt = started + config.requestDeadlineMs
    const replayable = body === null || Buffer.isBuffer(body)
    let attempts = 0
    let candidate = 0 // index into owner, owner+1, … when failing over
    let current: Attempt | undefined
    let currentPod = owner
    let lastFailure: { delivery: Delivery, error: RouterError } | undefined
    let retryTimer: NodeJS.Timeout | undefined
    let holdingRetrySlot = false
    let streaming = false
    let done = false

    budget.requestStarted()
    const deadline = setTimeout(onDeadline, config.requestDeadlineMs)
    res.once('close', onClientClose)
    send()

    function podFor (index: number): number {
      return (owner + index) % numPods
    }

    function send (): void {
      retryTimer = undefined
      if (done) return
      let pod = podFor(candidate)
      let admission = health.admit(pod)
      // Fail over past ejected pods without spending attempts, when allowed.
      while (admission.kind === 'reject' && config.failover === 'next' && candidate + 1 < numPods) {
        candidate++
        pod = podFor(candidate)
        admission = health.admit(pod)
      }
      if (admission.kind === 'reject') {
        const error = new GatewayUnavailableError(pod, `ejected after repeated connection failures; retry in ${Math.ceil(admission.retryAfterMs / 1000)} s`)
        decision('fail-fast', pod, { delivery: 'never-sent', error }, `ejected for ${admission.retryAfterMs} ms more`)
        finishWithError(error, pod, admission.retryAfterMs)
        return
      }
      attempts++
      currentPod = pod
      if (pod !== owner) metrics?.failover(owner)
      const extra: Record<string, string> = { 'x-gateway-pod': String(pod), 'x-request-id': requestId }
      const headers = upstreamHeaders(req, { guildId, requestId, trustProxyHeaders: config.trustProxyHeaders })
      if (pod !== owner) headers.push('x-gateway-failover', String(owner))
      const attempt: Attempt = new Attempt(res, pod, extra, {
        response: (status, responseHeaders): 'stream' | 'discard' => onResponse(attempt, pod, status, responseHeaders),
        failed: (failure, headersSent) => onFailure(attempt, pod, failure, headersSent),
        completed: () => finish(res.statusCode, pod)
      })
      current = attempt
      pools.pool(pod).dispatch({
        path: target,
        method,
        headers,
        // A Buffer can be sent again; a stream only once, and retries check for that.
        body
      }, attempt)
    }

    function onResponse (attempt: Attempt, pod: number, status: number, headers: Record<string, string | string[] | undefined>): 'stream' | 'discard' {
      if (done || attempt !== current) return 'discard'
      health.succeeded(pod)
      releaseRetrySlot()
      if (RETRYABLE_STATUS.has(status)) {
        const retryAfterMs = status === 503 ? parseRetryAfter(headers['retry-after']) : undefined
        const failure = { delivery: 'maybe-received' as const, error: new GatewayUnavailableError(pod, `answered ${status}`) }
        if (tryRetry(pod, failure, retryAfterMs, `gateway answered ${status}`)) return 'discard'
      }
      streaming = true
      clearTimeout(deadline)
      return 'stream'
    }

    function onFailure (attempt: Attempt, pod: number, failure: { delivery: Delivery, error: RouterError }, headersSent: boolean): void {
      if (done || attempt !== current) return
      health.failed(pod, failure.delivery)
      releaseRetrySlot()
      metrics?.upstreamError(pod, failure.error.code)
      lastFailure = failure
      if (headersSent) {
        decision('cut', pod, failure, 'failed mid-response; client connection closed')
        finish(RESPONSE_CUT, pod)
        return
      }
      if (tryRetry(pod, failure, undefined, failure.error.message)) return
      finishWithError(failure.error, pod, failure.delivery === 'never-sent' ? retryAfterFor(pod) : undefined)
    }

    /** Schedules another attempt if the policy, the deadline and the budget allow. */
    function tryRetry (pod: number, failure: { delivery: Delivery, error: RouterError }, retryAfterMs: number | undefined, what: string): boolean {
      const verdict = decideRetry({
        method, bodyReplayable: replayable, attempts, remainingMs: deadlineAt - performance.now(), delivery: failure.delivery, retryAfterMs
      }, settings)
      if (!verdict.retry) {
        decision('give-up', pod, failure, `${what}: ${verdict.reason}`)
        return false
      }
      if (!budget.tryAcquire()) {
        metrics?.budgetExhausted()
        decision('give-up', pod, failure, `${what}: retry budget exhausted`)
        return false
      }
      holdingRetrySlot = true
      // Failing over only makes sense when the owner could not be reached or is refusing.
      if (config.failover === 'next' && candidate + 1 < numPods) candidate++
      metrics?.retry(pod, retryAfterMs === undefined ? failure.delivery : 'retry-after')
      decision('retry', pod, failure, what, verdict.delayMs)
      retryTimer = setTimeout(send, verdict.delayMs)
      return true
    }

    function onDeadline (): void {
      if (done || streaming) return
      // The truth at the deadline: still waiting on a pod that took the request → 504;
      // only unreachable pods so far → 503.
      const waitingOnPod = retryTimer === undefined
      const error = waitingOnPod || lastFailure === undefined || lastFailure.delivery !== 'never-sent'
        ? new GatewayTimeoutError(currentPod, 'no response before the request deadline')
        : new GatewayUnavailableError(currentPod, 'unreachable until the request deadline')
      current?.abort(error)
      if (waitingOnPod) health.failed(currentPod, 'maybe-received')
      metrics?.upstreamError(currentPod, error.code)
      decision('give-up', currentPod, { delivery: waitingOnPod ? 'maybe-received' : 'never-sent', error }, 'request deadline reached')
      finishWithError(error, currentPod, error.status === 503 ? retryAfterFor(currentPod) : undefined)
    }

    function onClientClose (): void {
      if (done) return
      // The client hung up: stop the gateway's work on its behalf too.
      current?.abort(new Error('client closed the connection'))
      finish(CLIENT_CLOSED, currentPod)
    }

    function retryAfterFor (pod: number): number {
      const { ejectedUntil } = health.status(pod)
      return Math.max(1000, ejectedUntil - Date.now())
    }

    function finishWithError (error: RouterError, pod: number, retryAfterMs?: number): void {
      if (done) return
      sendError(res, error, { pod, requestId, retryAfterMs })
      finish(error.status, pod)
    }

    function finish (status: number, pod: number): void {
      if (done) return
      done = true
      clearTimeout(deadline)
      clearTimeout(retryTimer)
      releaseRetrySlot()
      budget.requestEnded()
      const seconds = (performance.now() - started) / 1000
      metrics?.observe(pod, status, seconds)
      // The access log is debug-level: at 10k req/s a line per request is the
      // dominant cost. Failure decisions are logged above, at warn.
      if (logger?.isLevelEnabled('debug') === true) {
        logger.debug({
          requestId, guildId, method, owner, pod, status, durationMs: Math.round(seconds * 1e4) / 10, attempts,
          failureClass: lastFailure?.delivery, code: lastFailure?.error.code
        }, 'request')
      }
    }

    function releaseRetrySlot (): void {
      if (!holdingRetrySlot) return
      holdingRetrySlot = false
      budget.release()
    }

    function decision (what: string, pod: number, failure: { delivery: Delivery, error: RouterError }, reason: string, delayMs?: number): void {
      logger?.warn({
        requestId, guildId, method, owner, pod, attempt: attempts, decision: what,
        delivery: failure.delivery, code: failure.error.code, reason, delayMs
      }, `${what}: ${failure.error.message}`)
    }
  }
}
