import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool, type Dispatcher } from 'undici'
import { announce, gateways, ownerOf, port } from './peer-config'

/**
 * The Node ceiling: the least a node:http + undici proxy can do and still
 * route by guild. One `Pool.dispatch` per request streaming straight into the
 * response, no retries, deadline, metrics, header hygiene or request ids.
 * Started with Node's default flags. Anything guild-router does on top of
 * this has to pay for itself.
 */
const pools = gateways.map(url => new Pool(url, { connections: 128 }))

const server = createServer((req, res) => {
  const guildId = req.headers['x-guild-id']
  if (typeof guildId !== 'string') {
    res.writeHead(400).end()
    return
  }
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart () {},
    onResponseStart (_controller, statusCode, headers) { res.writeHead(statusCode, headers) },
    onResponseData (controller, chunk) {
      if (!res.write(chunk)) {
        controller.pause()
        res.once('drain', () => controller.resume())
      }
    },
    onResponseEnd () { res.end() },
    onResponseError (_controller, err) { res.destroy(err) }
  }
  const { host: _host, connection: _connection, ...headers } = req.headers
  const body = req.method === 'GET' || req.method === 'HEAD' ? null : req
  pools[ownerOf(guildId)]?.dispatch({ method: req.method ?? 'GET', path: req.url ?? '/', headers, body }, handler)
})
server.listen(port, '127.0.0.1', () => announce((server.address() as AddressInfo).port))
process.once('SIGTERM', () => process.exit(0))
