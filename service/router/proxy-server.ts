import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { RouterConfig } from '../config'

/** Longest wait between Node's checks of header and request timeouts (its default is 30 s). */
const MAX_TIMEOUT_CHECK_MS = 1_000

/** The proxy port's server with the client-side limits from the config: the router's, and the warm-up's. */
export function createProxyServer (config: RouterConfig, handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
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
  }, handler)
}

export function timeoutCheckInterval (config: Pick<RouterConfig, 'clientHeadersTimeoutMs'>): number {
  return Math.max(1, Math.min(MAX_TIMEOUT_CHECK_MS, Math.floor(config.clientHeadersTimeoutMs / 10)))
}
