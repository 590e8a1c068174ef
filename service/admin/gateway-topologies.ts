import { request } from 'undici'
import { TOPOLOGY_PATH } from '../gateway/peers'

export interface GatewayTopology {
  readonly version: string
  readonly count: number
  readonly settled: boolean
}

/**
 * What topology each gateway says it holds, for the status page: asked over
 * GET /topology when an operator looks, at most every `maxAgeMs`, so a router
 * nobody looks at sends nothing. The answer shown is the last one received
 * (null until one arrives, or when the gateway did not answer).
 */
export class GatewayTopologies {
  readonly #urls: readonly string[]
  readonly #maxAgeMs: number
  readonly #last: Array<GatewayTopology | null>
  #askedAt = -Infinity

  constructor (urls: readonly string[], maxAgeMs = 2000) {
    this.#urls = urls
    this.#maxAgeMs = maxAgeMs
    this.#last = urls.map(() => null)
  }

  /** The last answers; starts a new round in the background when they are older than maxAgeMs. */
  snapshot (): ReadonlyArray<GatewayTopology | null> {
    const now = performance.now()
    if (now - this.#askedAt >= this.#maxAgeMs) {
      this.#askedAt = now
      this.#urls.forEach((url, pod) => { void this.#ask(url, pod) })
    }
    return this.#last
  }

  async #ask (url: string, pod: number): Promise<void> {
    try {
      const res = await request(`${url}${TOPOLOGY_PATH}`, { headersTimeout: 1000, bodyTimeout: 1000 })
      const body = res.statusCode === 200 ? await res.body.json() as Partial<GatewayTopology> : (await res.body.dump(), {})
      this.#last[pod] = typeof body.version === 'string'
        ? { version: body.version, count: Number(body.count), settled: body.settled === true }
        : null
    } catch {
      this.#last[pod] = null
    }
  }
}
