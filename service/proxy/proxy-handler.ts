import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { RouterConfig } from '../config'
import { MissingGuildIdError, PayloadTooLargeError, RouterError } from '../errors'
import type { Logger } from '../logger'
import type { RouterMetrics } from '../metrics'
import type { GuildId } from '../routing/guild-id'
import { strategy } from '../routing/strategies'
import { Exchange } from './exchange'
import type { GatewayPools } from './gateway-pools'
import { guildFromJsonBody, guildFromRequestLine } from './guild-source'
import { declaredLength, limitBody, mayCarryJsonGuild, readBody } from './request-body'
import { sendError } from './send-error'
import { requestIdOf, upstreamHeaders } from './upstream-headers'

/** Express-compatible middleware signature; `next` is accepted and never needed. */
export type ProxyHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void

/** Chooses the owner pod; the default is the configured strategy. */
export type SelectPod = (guildId: GuildId, numPods: number) => number

export interface ProxyOptions {
  readonly config: RouterConfig
  readonly pools: GatewayPools
  readonly metrics?: RouterMetrics
  readonly logger?: Logger
  readonly selectPod?: SelectPod
}

type Body = Buffer | Readable | null

/**
 * The proxy: find the guild, name its owner, forward the request there
 * byte-for-byte and stream the answer back. Mounts in Express as-is, and runs
 * directly under node:http where Express's per-request cost matters.
 */
export function createProxyHandler (opts: ProxyOptions): ProxyHandler {
  const { config, pools, metrics, logger } = opts
  const numPods = config.numGatewayPods
  const selectPod = opts.selectPod ?? strategy(config.strategy).pick
  const maxBody = config.maxBodyBytes

  function forward (req: IncomingMessage, res: ServerResponse, started: number, requestId: string,
    guildId: GuildId | undefined, body: Body): void {
    const pod = guildId === undefined ? 0 : selectPod(guildId, numPods)
    const exchange = new Exchange(res, pod, requestId, config.requestDeadlineMs, {
      finished: status => metrics?.observe(pod, status, (performance.now() - started) / 1000),
      failed: (failure, headersSent) => {
        metrics?.upstreamError(pod, failure.error.code)
        logger?.warn({
          requestId, guildId, pod, method: req.method, delivery: failure.delivery, code: failure.error.code,
          headersSent, err: failure.error.cause
        }, `gateway pod ${pod} failed: ${failure.error.message}`)
      },
      respond: error => sendError(res, error, { pod, requestId })
    })
    pools.pool(pod).dispatch({
      path: (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/',
      method: req.method ?? 'GET',
      headers: upstreamHeaders(req, { guildId, requestId, trustProxyHeaders: config.trustProxyHeaders }),
      body
    }, exchange)
  }

  function reject (res: ServerResponse, err: unknown, started: number, requestId: string): void {
    const error = err instanceof RouterError ? err : undefined
    if (error === undefined) {
      // A client that vanished mid-body, or a socket error: nothing to answer.
      logger?.debug({ requestId, err }, 'request ended before it could be routed')
      if (!res.headersSent) res.destroy()
      metrics?.observe(-1, 0, (performance.now() - started) / 1000)
      return
    }
    logger?.debug({ requestId, code: error.code }, error.message)
    sendError(res, error, { requestId })
    metrics?.observe(-1, error.status, (performance.now() - started) / 1000)
  }

  function unrouted (req: IncomingMessage, res: ServerResponse, started: number, requestId: string, body: Body): void {
    // Discord's own rule: what belongs to no guild (DMs) belongs to shard 0.
    if (config.unrouted === 'pod0') forward(req, res, started, requestId, undefined, body)
    else reject(res, new MissingGuildIdError(), started, requestId)
  }

  return function guildRouterProxy (req, res) {
    const started = performance.now()
    const requestId = requestIdOf(req)
    let found
    try {
      found = guildFromRequestLine((req as { originalUrl?: string }).originalUrl ?? req.url ?? '/', req.headers['x-guild-id'])
    } catch (err) {
      reject(res, err, started, requestId)
      return
    }
    const length = declaredLength(req)
    if (typeof length === 'number' && length > maxBody) {
      reject(res, new PayloadTooLargeError(maxBody), started, requestId)
      return
    }
    // A body parser mounted before us has consumed the stream; only raw bytes can be forwarded as-is.
    const preread = (req as { body?: unknown }).body
    const streamed: Body = length === 0
      ? null
      : Buffer.isBuffer(preread) ? preread : length === 'chunked' ? limitBody(req, maxBody) : req

    if (found !== undefined) {
      forward(req, res, started, requestId, found.id, streamed)
      return
    }
    if (!mayCarryJsonGuild(req)) {
      unrouted(req, res, started, requestId, streamed)
      return
    }
    const bytes = Buffer.isBuffer(preread) ? Promise.resolve(preread) : readBody(req, maxBody)
    bytes.then(body => {
      const guildId = guildFromJsonBody(body)
      if (guildId === undefined) unrouted(req, res, started, requestId, body)
      else forward(req, res, started, requestId, guildId, body)
    }).catch(err => reject(res, err, started, requestId))
  }
}
