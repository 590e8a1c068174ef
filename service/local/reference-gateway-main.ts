import type { AddressInfo } from 'node:net'
import { isStrategyName } from '../routing/strategies'
import { createReferenceGateway } from './reference-gateway'

/**
 * `node dist/service/local/reference-gateway-main.js` with ORDINAL, PORT
 * (0 = any free port), HOST, and optionally NUM_GATEWAY_PODS and
 * ROUTING_STRATEGY to turn on the ownership check, and REQUEST_LOG to record
 * each request's method and id in a file. Prints one JSON line
 * with the port once it listens.
 */
const ordinal = Number(process.env.ORDINAL ?? '0')
const numPods = process.env.NUM_GATEWAY_PODS === undefined ? undefined : Number(process.env.NUM_GATEWAY_PODS)
const strategyName = process.env.ROUTING_STRATEGY ?? 'md5-mod'
if (!Number.isInteger(ordinal) || ordinal < 0) throw new Error('ORDINAL must be an integer ≥ 0')
if (!isStrategyName(strategyName)) throw new Error(`unknown ROUTING_STRATEGY ${strategyName}`)

const server = createReferenceGateway({ ordinal, numPods, strategy: strategyName, requestLog: process.env.REQUEST_LOG })
server.listen(Number(process.env.PORT ?? '0'), process.env.HOST ?? '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(`${JSON.stringify({ msg: 'listening', role: 'gateway', ordinal, port })}\n`)
})
const stop = (): void => { server.close(); server.closeAllConnections(); process.exit(0) }
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
