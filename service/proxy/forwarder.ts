import type { Readable } from 'node:stream'
import type { RouterConfig } from '../config'
import type { Logger } from '../logger'
import type { RouterMetrics } from '../metrics'
import { strategy } from '../routing/strategies'
import { DeadlineQueue } from './deadline-queue'
import { Exchange, type ForwardRequest } from './exchange'
import type { GatewayPools } from './gateway-pools'
import type { PodHealth } from './pod-health'
import type { RetrySettings } from './retry-policy'
import type { RetryBudget } from './retry-budget'

export type Body = Buffer | Readable | null
export type { ForwardRequest } from './exchange'

export interface ForwarderOptions {
  readonly config: RouterConfig
  readonly pools: GatewayPools
  readonly health: PodHealth
  readonly budget: RetryBudget
  readonly metrics?: RouterMetrics
  readonly logger?: Logger
}

/** What every exchange of one forwarder shares. */
export interface ForwarderDeps extends ForwarderOptions {
  readonly retrySettings: RetrySettings
  readonly deadlines: DeadlineQueue
  /** The routing strategy, for the owner under a count the gateways report. */
  readonly pick: (guildId: string, numPods: number) => number
  /** The pod count the last gateway 421 reported (refusal-policy.ts, ownerAfterScaleDown). */
  readonly heard: { count: number | undefined }
}

export type Forward = (request: ForwardRequest) => void

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
export function createForwarder (options: ForwarderOptions): Forward {
  const { config } = options
  const deps: ForwarderDeps = {
    ...options,
    retrySettings: { maxAttempts: config.retryMaxAttempts, baseDelayMs: config.retryBaseMs, maxDelayMs: config.retryMaxBackoffMs },
    deadlines: new DeadlineQueue(config.requestDeadlineMs),
    pick: strategy(config.strategy).pick,
    heard: { count: undefined }
  }
  return function forward (request) {
    new Exchange(deps, request).start()
  }
}
