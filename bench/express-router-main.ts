import express from 'express'
import type { AddressInfo } from 'node:net'
import { parseConfig } from '../service/config'
import { GatewayPools } from '../service/proxy/gateway-pools'
import { createProxyHandler } from '../service/proxy/proxy-handler'

/**
 * The same proxy handler mounted in an Express 5 app, as an existing service
 * would mount it. Only the hot-path benchmark starts this, to measure what
 * Express's routing layer costs per request.
 */
const config = parseConfig(process.env)
const app = express()
app.disable('x-powered-by')
app.use(createProxyHandler({ config, pools: new GatewayPools(config) }))
const server = app.listen(config.port, config.host, () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`)
})
process.once('SIGINT', () => process.exit(0))
process.once('SIGTERM', () => process.exit(0))
