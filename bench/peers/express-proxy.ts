import express from 'express'
import { Agent } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createProxyMiddleware } from 'http-proxy-middleware'
import { announce, gateways, ownerOf, port } from './peer-config'

/**
 * Express 5 with http-proxy-middleware 4, the most common Express proxy:
 * `router` picks the gateway per request, over a keep-alive agent (its
 * default opens a connection per request).
 */
const app = express()
app.disable('x-powered-by')
app.use(createProxyMiddleware({
  target: gateways[0],
  agent: new Agent({ keepAlive: true, maxSockets: 128 }),
  router: req => {
    const guildId = req.headers['x-guild-id']
    return gateways[typeof guildId === 'string' ? ownerOf(guildId) : 0] as string
  }
}))
const server = app.listen(port, '127.0.0.1', () => announce((server.address() as AddressInfo).port))
process.once('SIGTERM', () => process.exit(0))
