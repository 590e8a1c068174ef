import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createGuildRouter, parseConfig, type GuildRouter } from '../../service/index'
import { md5Mod } from '../../service/routing/strategies'
import { Cleanup, closedPortUrl, startGateways } from '../helpers/topology'

/** guild-router inside an existing Express service, as the original design used it. */
const cleanup = new Cleanup()
let base: string
let guildRouter: GuildRouter
const GUILD = '81384788765712384'

beforeAll(async () => {
  const gateways = await startGateways(cleanup, 3, 'md5-mod')
  guildRouter = createGuildRouter(parseConfig({ NUM_GATEWAY_PODS: '3', GATEWAY_URLS: gateways.urls.join(',') }))
  cleanup.add(() => guildRouter.close())

  const app = express()
  // The app's own route, calling the owner pod from its handler.
  app.get('/stats/:guildId', async (req, res, next) => {
    try {
      const answer = await guildRouter.routeToGateway(req.params.guildId, `/stats?from=app`)
      res.json({ pod: answer.pod, gateway: await answer.body.json() })
    } catch (err) {
      next(err)
    }
  })
  // A raw-body parser before the proxy is fine: the bytes are forwarded as read.
  app.use('/raw', express.raw({ type: '*/*' }), guildRouter.middleware)
  app.use(guildRouter.middleware)
  app.use((err: { status?: number, code?: string, message: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(err.status ?? 500).json({ error: err.code, message: err.message })
  })
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  cleanup.add(async () => { server.closeAllConnections(); server.close() })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => cleanup.run())

describe('as a library', () => {
  it('ownerOf names the pod and URL', () => {
    expect(guildRouter.ownerOf(GUILD).pod).toBe(md5Mod(GUILD, 3))
    expect(() => guildRouter.ownerOf('01')).toThrow(expect.objectContaining({ code: 'invalid_guild_id' }))
  })

  it('routeToGateway reaches the owner from an app handler', async () => {
    const res = await request(`${base}/stats/${GUILD}`)
    const body = await res.body.json() as { pod: number, gateway: { ordinal: number, url: string, guildId: string } }
    expect(body.pod).toBe(md5Mod(GUILD, 3))
    expect(body.gateway).toMatchObject({ ordinal: md5Mod(GUILD, 3), url: '/stats?from=app', guildId: GUILD })
  })

  it('the middleware proxies inside Express and keeps the full original path', async () => {
    const res = await request(`${base}/api/v10/guilds/${GUILD}/members`)
    expect(res.statusCode).toBe(200)
    expect(res.headers['x-gateway-pod']).toBe(String(md5Mod(GUILD, 3)))
    expect(await res.body.json()).toMatchObject({ url: `/api/v10/guilds/${GUILD}/members` })
  })

  it('behind express.raw the body read for guild_id is still forwarded byte-identical', async () => {
    const text = `{"guild_id":"${GUILD}","type":2}`
    const res = await request(`${base}/raw/interactions`, { method: 'POST', body: text, headers: { 'content-type': 'application/json' } })
    expect(res.statusCode).toBe(200)
    expect(await res.body.json()).toMatchObject({ ordinal: md5Mod(GUILD, 3), bodyBytes: text.length, url: '/raw/interactions' })
  })

  it('routeToGateway rejects with a coded error when the owner is down', async () => {
    const down = createGuildRouter(parseConfig({ NUM_GATEWAY_PODS: '1', GATEWAY_URLS: await closedPortUrl() }))
    try {
      await expect(down.routeToGateway(GUILD, '/')).rejects.toMatchObject({ code: 'gateway_unavailable', status: 503 })
    } finally {
      await down.close()
    }
  })
})
