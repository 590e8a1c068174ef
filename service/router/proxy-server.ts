import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { RouterConfig } from '../config'
import { RouterError } from '../errors'
import { sendError } from '../proxy/send-error'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** Longest wait between Node's checks of header and request timeouts (its default is 30 s). */
const MAX_TIMEOUT_CHECK_MS = 1_000

/** The proxy port's server with the client-side limits from the config: the router's, and the warm-up's. */
export function createProxyServer (config: RouterConfig, handler: Handler): Server {
  return createServer({
    headersTimeout: config.clientHeadersTimeoutMs,
    requestTimeout: config.clientRequestTimeoutMs,
    keepAliveTimeout: config.clientKeepAliveTimeoutMs,
    // Node enforces both timeouts only when it sweeps its connections, so a
    // stalled client is cut within a tenth of its timeout (at most 1 s) late.
    connectionsCheckingInterval: timeoutCheckInterval(config),
    // A request with neither Content-Length nor Transfer-Encoding has no body
    // (RFC 9112 §6.3); Node then skips the stream's data/end/close life cycle
    // for it. The proxy never reads such a request's stream: it forwards no body.
    optimizeEmptyRequests: true
  }, limitRequestsPerConnection(config.clientMaxRequestsPerConnection, handler))
}

/**
 * A Service balances connections, not requests: a client that keeps its
 * connections alive stays on the routers it first reached, and routers the
 * HPA adds get none of its traffic. So the answer to a connection's `max`th
 * request says `Connection: close` and Node ends the connection after it;
 * the client's next request opens a new one, which the Service may send
 * anywhere. (Node's own `maxRequestsPerSocket` does the same but answers a
 * request pipelined behind the last with a bare 503, not the JSON contract.)
 */
export function limitRequestsPerConnection (max: number, handler: Handler): Handler {
  if (max === 0) return handler
  // Keyed by the socket, so a closed connection's count goes with it.
  const served = new WeakMap<Socket, number>()
  return (req, res) => {
    const n = (served.get(req.socket) ?? 0) + 1
    served.set(req.socket, n)
    if (n < max) {
      handler(req, res)
      return
    }
    res.shouldKeepAlive = false
    if (n === max) {
      handler(req, res)
      return
    }
    // Pipelined behind the last request: the connection closes before this
    // answer could be written, so the request must not reach a gateway.
    sendError(res, new RouterError('connection_closing', 503, `this connection carried its ${max} requests and is closing; send again on a new connection`))
  }
}

export function timeoutCheckInterval (config: Pick<RouterConfig, 'clientHeadersTimeoutMs'>): number {
  return Math.max(1, Math.min(MAX_TIMEOUT_CHECK_MS, Math.floor(config.clientHeadersTimeoutMs / 10)))
}
