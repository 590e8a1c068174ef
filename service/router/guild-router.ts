import type { Dispatcher } from 'undici'
import type { RouterConfig } from '../config'
import type { Logger } from '../telemetry/logger'
import type { RouterMetrics } from '../telemetry/metrics'
import { GatewayPools } from '../proxy/gateway-pools'
import { budgetFor, createProxyHandler, healthFor, type ProxyHandler, type SelectPod } from '../proxy/proxy-handler'
import { classifyUpstreamError } from '../proxy/upstream-failure'
import { parseGuildId, type GuildId } from '../routing/guild-id'
import { strategy } from '../routing/strategies'

export interface RouteInit {
  readonly method?: Dispatcher.HttpMethod
  readonly headers?: Record<string, string>
  readonly body?: string | Buffer | Uint8Array | null
  readonly signal?: AbortSignal
}

export interface GatewayResponse extends Dispatcher.ResponseData {
  /** The ordinal of the pod that answered. */
  readonly pod: number
}

export interface GuildRouter {
  /** Express middleware (or a node:http handler) that proxies to the owner pod. */
  readonly middleware: ProxyHandler
  /** The owner of a guild and its base URL; throws InvalidGuildIdError for a bad id. */
  ownerOf (guildId: string): { pod: number, url: string }
  /**
   * Sends one request to the guild's owner from your own handler, the way the
   * original design called gateways. Rejects with a RouterError carrying a
   * stable code (gateway_unavailable, gateway_timeout, bad_gateway).
   */
  routeToGateway (guildId: string, path: string, init?: RouteInit): Promise<GatewayResponse>
  close (): Promise<void>
}

/**
 * guild-router as a library inside an existing Express service: one set of
 * connection pools shared by the middleware and by direct calls.
 */
export function createGuildRouter (config: RouterConfig, opts: { metrics?: RouterMetrics, logger?: Logger, selectPod?: SelectPod } = {}): GuildRouter {
  const pools = new GatewayPools(config)
  const pick = opts.selectPod ?? strategy(config.strategy).pick
  const middleware = createProxyHandler({ config, pools, health: healthFor(config), budget: budgetFor(config), ...opts, selectPod: pick })

  function ownerOf (raw: string): { pod: number, url: string } {
    const guildId: GuildId = parseGuildId(raw, 'argument guildId')
    const pod = pick(guildId, config.numGatewayPods)
    return { pod, url: config.gatewayUrls[pod] as string }
  }

  async function routeToGateway (raw: string, path: string, init: RouteInit = {}): Promise<GatewayResponse> {
    const { pod } = ownerOf(raw)
    const signal = init.signal === undefined
      ? AbortSignal.timeout(config.requestDeadlineMs)
      : AbortSignal.any([init.signal, AbortSignal.timeout(config.requestDeadlineMs)])
    try {
      const response = await pools.pool(pod).request({
        path,
        method: init.method ?? 'GET',
        headers: { ...init.headers, 'x-guild-id': raw },
        body: init.body ?? null,
        signal
      })
      return Object.assign(response, { pod })
    } catch (err) {
      if ((err as { name?: string }).name === 'TimeoutError') {
        throw classifyUpstreamError({ code: 'UND_ERR_HEADERS_TIMEOUT', cause: err }, pod).error
      }
      throw classifyUpstreamError(err, pod).error
    }
  }

  return { middleware, ownerOf, routeToGateway, close: () => pools.close() }
}
