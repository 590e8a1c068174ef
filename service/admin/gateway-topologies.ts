import { request } from 'undici'
import { TOPOLOGY_PATH } from '../gateway/peers'

export interface GatewayTopology {
  readonly version: string
  readonly count: number
  readonly settled: boolean
  /** Guilds whose data this pod holds. */
  readonly guilds: number
  /** Handoff progress: guilds and bytes it still has to send, and guilds it still expects. */
  readonly sending: { readonly guilds: number, readonly bytes: number }
  readonly receiving: { readonly guilds: number, readonly bytes: number }
}

/** What a gateway's GET /topology carries, as far as the page reads it (older gateways may lack the handoff part). */
interface Answer {
  version: string
  count: number
  settled: boolean
  guilds: number
  handoff: { sending?: Partial<Totals>, receiving?: Partial<Totals> }
}
interface Totals { guilds: number, bytes: number }

function totals (t: Partial<Totals> | undefined): Totals {
  return { guilds: Number(t?.guilds ?? 0) || 0, bytes: Number(t?.bytes ?? 0) || 0 }
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
      const body = res.statusCode === 200 ? await res.body.json() as Partial<Answer> : (await res.body.dump(), {})
      this.#last[pod] = typeof body.version === 'string'
        ? {
            version: body.version,
            count: Number(body.count),
            settled: body.settled === true,
            guilds: Number(body.guilds ?? 0),
            sending: totals(body.handoff?.sending),
            receiving: totals(body.handoff?.receiving)
          }
        : null
    } catch {
      this.#last[pod] = null
    }
  }
}
