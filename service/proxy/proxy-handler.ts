import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RouterConfig } from '../config'
import { ConflictingGuildIdError, InvalidPathError, MissingGuildIdError, PayloadTooLargeError, RouterError } from '../errors'
import type { Logger } from '../telemetry/logger'
import { CLIENT_CLOSED, type RouterMetrics } from '../telemetry/metrics'
import type { GuildId } from '../routing/guild-id'
import { strategy } from '../routing/strategies'
import { createForwarder, type Body } from './forwarder'
import type { GatewayPools } from './gateway-pools'
import { guildFromJsonBody, guildFromRequestLine } from './guild-source'
import { PodHealth } from './pod-health'
import { lingerAfterAnswer } from './lingering-close'
import { limitBody, readBody } from './request-body'
import { mayCarryJsonGuild, readRequestHead, type RequestHead } from './request-head'
import { originForm, targetAuthority } from './request-target'
import { RetryBudget } from './retry-budget'
import { sendError } from './send-error'
import { upstreamHeaders } from './upstream-headers'

/** What the router serves, for `Allow` on OPTIONS * and on 405s. */
export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'

/** Express-compatible middleware signature; `next` is accepted and never needed. */
export type ProxyHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void

/** Chooses the owner pod; the default is the configured strategy. */
export type SelectPod = (guildId: GuildId, numPods: number) => number

export interface ProxyOptions {
  readonly config: RouterConfig
  readonly pools: GatewayPools
  /** Shared with active health checks and the status page; one is made if absent. */
  readonly health?: PodHealth
  readonly budget?: RetryBudget
  readonly metrics?: RouterMetrics
  readonly logger?: Logger
  readonly selectPod?: SelectPod
}

export function healthFor (config: RouterConfig): PodHealth {
  return new PodHealth(config.numGatewayPods, {
    consecutiveFailures: config.ejectConsecutiveFailures, baseMs: config.ejectBaseMs, maxMs: config.ejectMaxMs
  })
}

export function budgetFor (config: RouterConfig): RetryBudget {
  return new RetryBudget(config.retryBudgetPercent, config.retryBudgetMin)
}

/**
 * The proxy: find the guild, name its owner, forward the request there
 * byte-for-byte and stream the answer back. Mounts in Express as-is, and runs
 * directly under node:http where Express's per-request cost matters.
 */
export function createProxyHandler (opts: ProxyOptions): ProxyHandler {
  const { config, metrics, logger } = opts
  const numPods = config.numGatewayPods
  const selectPod = opts.selectPod ?? strategy(config.strategy).pick
  const maxBody = config.maxBodyBytes
  const trustProxyHeaders = config.trustProxyHeaders
  const forward = createForwarder({
    config, pools: opts.pools, health: opts.health ?? healthFor(config), budget: opts.budget ?? budgetFor(config), metrics, logger
  })

  function route (req: IncomingMessage, res: ServerResponse, started: number, head: RequestHead,
    guildId: GuildId | undefined, body: Body, target: string, authority: string | undefined): void {
    // Discord's own rule for what belongs to no guild (DMs): shard 0.
    const owner = guildId === undefined ? 0 : selectPod(guildId, numPods)
    const requestId = head.requestId
    const headers = upstreamHeaders(req, head, { guildId, requestId, trustProxyHeaders, authority })
    forward({ req, res, started, requestId, guildId, owner, body, target, headers })
  }

  function reject (res: ServerResponse, err: unknown, started: number, requestId: string): void {
    if (!(err instanceof RouterError)) {
      // A client that vanished mid-body, or a socket error: nothing to answer.
      logger?.debug({ requestId, err }, 'request ended before it could be routed')
      if (!res.headersSent) res.destroy()
      metrics?.observe(-1, CLIENT_CLOSED, (performance.now() - started) / 1000)
      return
    }
    logger?.debug({ requestId, code: err.code }, err.message)
    sendError(res, err, { requestId, linger: config })
    metrics?.observe(-1, err.status, (performance.now() - started) / 1000)
  }

  function unrouted (req: IncomingMessage, res: ServerResponse, started: number, head: RequestHead, body: Body,
    target: string, authority: string | undefined): void {
    if (config.unrouted === 'pod0') route(req, res, started, head, undefined, body, target, authority)
    else reject(res, new MissingGuildIdError(), started, head.requestId)
  }

  /** `OPTIONS *` asks about this server, not a resource (RFC 9110 §9.3.7): answered here. */
  function aboutServer (res: ServerResponse, started: number, requestId: string): void {
    if (res.req !== undefined && !res.req.complete) {
      res.shouldKeepAlive = false
      lingerAfterAnswer(res, config)
    }
    res.writeHead(204, { allow: ALLOWED_METHODS, 'x-request-id': requestId })
    res.end()
    metrics?.observe(-1, 204, (performance.now() - started) / 1000)
  }

  return function guildRouterProxy (req, res) {
    const started = performance.now()
    const head = readRequestHead(req)
    let found
    let target
    let authority: string | undefined
    try {
      const raw = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/'
      target = originForm(raw)
      // Only absolute-form is rewritten, so the common case skips this.
      if (target !== raw) authority = targetAuthority(raw)
      if (target === '*') {
        if (req.method === 'OPTIONS') aboutServer(res, started, head.requestId)
        else reject(res, new InvalidPathError('* (asterisk-form) is only for OPTIONS'), started, head.requestId)
        return
      }
      found = guildFromRequestLine(target, head.guildHeader)
    } catch (err) {
      reject(res, err, started, head.requestId)
      return
    }
    const length = head.length
    if (typeof length === 'number' && length > maxBody) {
      reject(res, new PayloadTooLargeError(maxBody), started, head.requestId)
      return
    }
    // A body parser mounted before us has consumed the stream; only raw bytes can be forwarded as-is.
    const preread = (req as { body?: unknown }).body
    // A JSON body is read whenever it may name a guild, also when another
    // source does: the gateway reads it too, so it must agree.
    const needsBody = mayCarryJsonGuild(head)
    // Small bodies are read first so that a retry can send them again.
    const buffer = Buffer.isBuffer(preread) || needsBody || (typeof length === 'number' && length > 0 && length <= config.retryBufferBytes)

    if (!buffer) {
      const streamed: Body = length === 0 ? null : length === 'chunked' ? limitBody(req, maxBody) : req
      if (found !== undefined) route(req, res, started, head, found.id, streamed, target, authority)
      else unrouted(req, res, started, head, streamed, target, authority)
      return
    }
    const bytes = Buffer.isBuffer(preread) ? Promise.resolve(preread) : readBody(req, maxBody)
    bytes.then(body => {
      const fromBody = needsBody ? guildFromJsonBody(body) : undefined
      if (found !== undefined && fromBody !== undefined && fromBody !== found.id) {
        throw new ConflictingGuildIdError(found, { id: fromBody, source: 'body guild_id' })
      }
      const guildId = found?.id ?? fromBody
      if (guildId === undefined) unrouted(req, res, started, head, body, target, authority)
      else route(req, res, started, head, guildId, body, target, authority)
    }).catch(err => reject(res, err, started, head.requestId))
  }
}
