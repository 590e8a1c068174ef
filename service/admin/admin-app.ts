import express, { type Express } from 'express'
import type { RouterConfig } from '../config'
import { RouterError } from '../errors'
import type { RouterMetrics } from '../metrics'
import { parseGuildId } from '../routing/guild-id'
import { strategy } from '../routing/strategies'
import { sendError } from '../proxy/send-error'

export interface AdminState {
  /** False once shutdown has begun: the pod should leave the Service's endpoints. */
  ready (): boolean
}

/**
 * The admin port: health for the kubelet, metrics for Prometheus, and the
 * owner lookup operators and scripts use. Kept off the proxy port so a
 * client can never reach it through the Service.
 */
export function createAdminApp (config: RouterConfig, metrics: RouterMetrics, state: AdminState): Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  const pick = strategy(config.strategy).pick

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' })
  })

  app.get('/readyz', (_req, res) => {
    if (state.ready()) res.json({ status: 'ready' })
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
    const pod = pick(guildId, config.numGatewayPods)
    res.json({ guildId, pod, url: config.gatewayUrls[pod], strategy: config.strategy, numPods: config.numGatewayPods })
  })

  app.use((_req, res) => {
    sendError(res, new RouterError('not_found', 404, 'no such admin endpoint: try /healthz, /readyz, /metrics or /route/<guildId>'))
  })

  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    if (err instanceof RouterError) sendError(res, err)
    else sendError(res, new RouterError('internal_error', 500, 'internal error'))
  })
  return app
}
