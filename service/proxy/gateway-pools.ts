import { Pool } from 'undici'
import type { RouterConfig } from '../config'

/**
 * The address book: one keep-alive connection pool per gateway ordinal. The
 * pod's host name is resolved when a connection opens, so a pod that moved to
 * a new IP is found again on the next connection.
 */
export class GatewayPools {
  readonly urls: readonly string[]
  readonly #pools: Pool[]

  constructor (config: Pick<RouterConfig, 'gatewayUrls' | 'upstreamConnections' | 'upstreamKeepAliveTimeoutMs'
  | 'upstreamConnectTimeoutMs' | 'requestDeadlineMs' | 'upstreamBodyTimeoutMs'>) {
    this.urls = config.gatewayUrls
    this.#pools = config.gatewayUrls.map(url => new Pool(url, {
      connections: config.upstreamConnections,
      pipelining: 1,
      keepAliveTimeout: config.upstreamKeepAliveTimeoutMs,
      keepAliveMaxTimeout: config.upstreamKeepAliveTimeoutMs,
      connect: { timeout: config.upstreamConnectTimeoutMs },
      headersTimeout: config.requestDeadlineMs,
      bodyTimeout: config.upstreamBodyTimeoutMs
    }))
  }

  pool (ordinal: number): Pool {
    const pool = this.#pools[ordinal]
    if (pool === undefined) throw new RangeError(`no gateway pod ${ordinal} (have ${this.#pools.length})`)
    return pool
  }

  /** Waits for in-flight requests, then closes every connection. */
  async close (): Promise<void> {
    await Promise.all(this.#pools.map(p => p.close()))
  }
}
