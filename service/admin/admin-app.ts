import { randomBytes } from 'node:crypto'
import express, { type Express } from 'express'
import type { RouterConfig } from '../config'
import { RouterError } from '../errors'
import type { RouterMetrics } from '../metrics'
import type { PodHealth } from '../proxy/pod-health'
import type { RetryBudget } from '../proxy/retry-budget'
import { sendError } from '../proxy/send-error'
import { guildIdProblem, parseGuildId } from '../routing/guild-id'
import { planRescale } from '../routing/rescale-plan'
import { seededSnowflakes } from '../routing/snowflakes'
import { strategy } from '../routing/strategies'
import { routerStatus } from './router-status'
import { renderStatusPage, type Lookup } from './status-page'

export interface AdminDeps {
  readonly config: RouterConfig
  readonly metrics: RouterMetrics
  readonly health: PodHealth
  readonly budget: RetryBudget
  /** False once shutdown has begun: the pod should leave the Service's endpoints. */
  readonly ready: () => boolean
}

/** Synthetic guilds for the rescale preview: enough for ±0.5%, quick to hash. */
const PLAN_SAMPLE = 20_000

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
  const owner = (guildId: string): { pod: number, url: string } => {
    const pod = strat.pick(guildId, config.numGatewayPods)
    return { pod, url: config.gatewayUrls[pod] as string }
  }
  const status = (): ReturnType<typeof routerStatus> => routerStatus({ ...deps, draining: () => !deps.ready() })

  app.get('/', (req, res) => {
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
    res.json({ ...planRescale(seededSnowflakes(PLAN_SAMPLE), strat, from, to), sample: PLAN_SAMPLE })
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
