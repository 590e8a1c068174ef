import { strategy } from '../routing/strategies'
import { DeadlineQueue } from './deadline-queue'
import { Exchange, type ExchangeDeps, type ForwardRequest } from './exchange'

export type { Body, ForwardRequest } from './exchange'

/** What the proxy hands the forwarder; the rest of an exchange's dependencies are made here, once. */
export type ForwarderOptions = Pick<ExchangeDeps, 'config' | 'pools' | 'health' | 'budget' | 'metrics' | 'logger'>

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
  const deps: ExchangeDeps = {
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
