import { Pool } from 'undici'
import type { RouterConfig } from '../config'
import { podUrl } from '../routing/pod-address'

type PoolConfig = Pick<RouterConfig, 'gatewayUrls' | 'gatewayUrlTemplate' | 'upstreamConnections' | 'upstreamKeepAliveTimeoutMs'
| 'upstreamConnectTimeoutMs' | 'requestDeadlineMs' | 'upstreamBodyTimeoutMs'>

/**
 * Ordinals past NUM_GATEWAY_PODS a gateway's redirect may name: a scale-up
 * of more than this many pods at once leaves the rest to the new routers.
 * Bounds what a misbehaving gateway can make a router open.
 */
export const MAX_REDIRECT_ORDINALS = 64

/**
 * The address book: one keep-alive connection pool per gateway ordinal. The
 * pod's host name is resolved when a connection opens, so a pod that moved to
 * a new IP is found again on the next connection.
 */
export class GatewayPools {
  readonly urls: readonly string[]
  readonly #config: PoolConfig
  readonly #pools: Pool[]
  readonly #extras = new Map<number, Pool>()

  constructor (config: PoolConfig) {
    this.#config = config
    this.urls = config.gatewayUrls
    this.#pools = config.gatewayUrls.map(url => this.#open(url))
  }

  pool (ordinal: number): Pool {
    const pool = this.#pools[ordinal] ?? this.#extra(ordinal)
    if (pool === undefined) throw new RangeError(`no gateway pod ${ordinal} (have ${this.#pools.length})`)
    return pool
  }

  /**
   * Whether `pool(ordinal)` can dial that pod. Past NUM_GATEWAY_PODS only with
   * a URL template (a new pod of a scale-up that this router's count does not
   * know yet), opened on first use.
   */
  reachable (ordinal: number): boolean {
    return ordinal < this.urls.length ||
      (this.#config.gatewayUrlTemplate !== undefined && ordinal < this.urls.length + MAX_REDIRECT_ORDINALS)
  }

  /** Waits for in-flight requests, then closes every connection. */
  async close (): Promise<void> {
    await Promise.all([...this.#pools, ...this.#extras.values()].map(async p => { await p.close() }))
  }

  #extra (ordinal: number): Pool | undefined {
    const template = this.#config.gatewayUrlTemplate
    if (template === undefined || !Number.isInteger(ordinal) || ordinal < 0 || !this.reachable(ordinal)) return undefined
    let pool = this.#extras.get(ordinal)
    if (pool === undefined) {
      pool = this.#open(new URL(podUrl(template, ordinal)).origin)
      this.#extras.set(ordinal, pool)
    }
    return pool
  }

  #open (url: string): Pool {
    const config = this.#config
    return new Pool(url, {
      connections: config.upstreamConnections,
      pipelining: 1,
      keepAliveTimeout: config.upstreamKeepAliveTimeoutMs,
      keepAliveMaxTimeout: config.upstreamKeepAliveTimeoutMs,
      connect: { timeout: config.upstreamConnectTimeoutMs },
      headersTimeout: config.requestDeadlineMs,
      bodyTimeout: config.upstreamBodyTimeoutMs
    })
  }
}
