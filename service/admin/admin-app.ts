import { randomBytes } from 'node:crypto'
import express, { type Express } from 'express'
import type { RouterConfig } from '../config'
import { RouterError } from '../errors'
import type { RouterMetrics } from '../telemetry/metrics'
import type { PodHealth, PodState } from '../proxy/pod-health'
import type { RetryBudget } from '../proxy/retry-budget'
import { sendError } from '../proxy/send-error'
import { guildIdProblem, parseGuildId } from '../routing/guild-id'
import { PLAN_SAMPLE_SIZE, planRescale } from '../routing/rescale-plan'
import { seededSnowflakes } from '../routing/snowflakes'
import { isStrategyName, STRATEGY_NAMES, strategy, type StrategyName } from '../routing/strategies'
import { GatewayTopologies } from './gateway-topologies'
import { routerStatus } from './router-status'
import { renderLiveParts, renderStatusPage, type Lookup } from './status-page'

export interface AdminDeps {
  readonly config: RouterConfig
  readonly metrics: RouterMetrics
  readonly health: PodHealth
  readonly budget: RetryBudget
  /** False once shutdown has begun: the pod should leave the Service's endpoints. */
  readonly ready: () => boolean
}


interface Owner { readonly pod: number, readonly url: string, readonly state: PodState, readonly ejectedUntil: string | null }

/**
 * The admin port: the status page, health for the kubelet, metrics for
 * Prometheus, and the owner lookup operators and scripts use. Kept off the
 * proxy port so a client can never reach it through the Service.
 */
export function createAdminApp (deps: AdminDeps): Express {
  const { config, metrics } = deps
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  const strat = strategy(config.strategy)
  // With the owner's health: an operator asking who owns a guild usually
  // wants to know next whether that pod is taking its requests.
  const owner = (guildId: string): Owner => {
    const pod = strat.pick(guildId, config.numGatewayPods)
    const health = deps.health.status(pod)
    return {
      pod,
      url: config.gatewayUrls[pod] as string,
      state: health.state,
      ejectedUntil: health.ejectedUntil === 0 ? null : new Date(health.ejectedUntil).toISOString()
    }
  }
  const topologies = new GatewayTopologies(config.gatewayUrls)
  const status = (): ReturnType<typeof routerStatus> =>
    routerStatus({ ...deps, draining: () => !deps.ready(), gatewayTopologies: topologies.snapshot() })

  app.get('/', (req, res) => {
    if (req.query.live === '1') {
      // No script or style of its own: nothing in it may run, nothing needs a nonce.
      res.set('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
      res.set('cache-control', 'no-store')
      res.type('html').send(renderLiveParts(status()))
      return
    }
    const nonce = randomBytes(16).toString('base64')
    const guild = typeof req.query.guild === 'string' ? req.query.guild.trim() : undefined
    let lookup: Lookup | undefined
    if (guild !== undefined && guild !== '') {
      const problem = guildIdProblem(guild)
      lookup = problem === undefined ? { guildId: guild, ...owner(guild) } : { guildId: guild, error: `invalid_guild_id: ${problem}` }
    }
    // SECURITY: only this response's own inline style and script may run.
    res.set('content-security-policy',
      `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`)
    res.set('cache-control', 'no-store')
    res.type('html').send(renderStatusPage(status(), { nonce, lookup }))
  })

  app.get('/status', (_req, res) => {
    res.set('cache-control', 'no-store').json(status())
  })

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' })
  })

  app.get('/readyz', (_req, res) => {
    if (deps.ready()) res.json({ status: 'ready' })
    else res.status(503).json({ status: 'draining' })
  })

  app.get('/metrics', async (_req, res, next) => {
    try {
      // Reading each pod's health ends ejections whose time has passed, so
      // the pod-state gauge is what the next request would meet.
      for (let pod = 0; pod < deps.health.size; pod++) deps.health.status(pod)
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics())
    } catch (err) {
      next(err)
    }
  })

  app.get('/route/:guildId', (req, res) => {
    const guildId = parseGuildId(req.params.guildId, 'path /route/<id>')
    res.json({ guildId, ...owner(guildId), strategy: config.strategy, numPods: config.numGatewayPods })
  })

  app.get('/plan', (req, res) => {
    const from = podCount(req.query.from, 'from', config.numGatewayPods)
    const to = podCount(req.query.to, 'to', config.numGatewayPods + 1)
    const planned = planStrategy(req.query.strategy, config.strategy)
    res.json({ ...planRescale(seededSnowflakes(PLAN_SAMPLE_SIZE), strategy(planned), from, to), sample: PLAN_SAMPLE_SIZE })
  })

  app.use((_req, res) => {
    sendError(res, new RouterError('not_found', 404, 'no such admin endpoint: try /, /status, /healthz, /readyz, /metrics, /route/<guildId> or /plan?from=N&to=M'))
  })

  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    if (err instanceof RouterError) sendError(res, err)
    else sendError(res, new RouterError('internal_error', 500, 'internal error'))
  })
  return app
}

function podCount (raw: unknown, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback
  const n = typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(n) || n < 1 || n > 1000) {
    throw new RouterError('invalid_request', 400, `query ${name} must be a pod count from 1 to 1000 (got ${JSON.stringify(raw)})`)
  }
  return n
}

/** `?strategy=` previews a change of strategy too; absent, the router's own. */
function planStrategy (raw: unknown, fallback: StrategyName): StrategyName {
  if (raw === undefined || raw === '') return fallback
  if (typeof raw !== 'string' || !isStrategyName(raw)) {
    throw new RouterError('invalid_request', 400, `query strategy must be one of ${STRATEGY_NAMES.join(', ')} (got ${JSON.stringify(raw)})`)
  }
  return raw
}
