import type { ServerResponse } from 'node:http'
import type { RouterConfig } from '../config'

/** CLIENT_LINGER_MS and CLIENT_LINGER_BYTES; the config itself is passed, so an error allocates nothing for them. */
export type LingerLimits = Pick<RouterConfig, 'clientLingerMs' | 'clientLingerBytes'>

/**
 * Arms a lingering close for an answer sent before the request body was
 * read (a 413, a bad guild id, a refusal).
 *
 * Why: closing a socket whose receive buffer still holds unread bytes makes
 * the kernel send a reset instead of a FIN. A client that writes its whole
 * body before reading (Python's http.client and requests) then fails its
 * write with EPIPE and never sees the answer that is waiting for it. Like
 * nginx's `lingering_close`, the router instead half-closes: the answer and
 * a FIN go out, and it reads and drops what the client still sends, until
 * the client closes, CLIENT_LINGER_BYTES have been dropped, or
 * CLIENT_LINGER_MS have passed. Then it closes. The bounds keep a client from making the router
 * read forever; past them the client gets the reset it would have got anyway.
 *
 * Node's server ends a `connection: close` response's socket with
 * `destroySoon()`, which closes as soon as the answer is flushed; the socket
 * of this one response gets its own version of it. Its read side stays open:
 * Node's HTTP server allows half-open sockets.
 */
export function lingerAfterAnswer (res: ServerResponse, limits: LingerLimits): void {
  const req = res.req
  const socket = res.socket
  if (socket === null || limits.clientLingerMs <= 0) return
  // The rest of the body arrives through the HTTP parser into the request,
  // so it is counted and dropped there, starting now. A request Node dumps
  // instead is never counted, so the request stays ours: read, not dumped.
  let dropped = 0
  req.removeAllListeners('data')
  req.unpipe()
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length
    if (dropped > limits.clientLingerBytes) socket.destroy()
  })
  req.resume()
  socket.destroySoon = function lingeringClose () {
    socket.end()
    const timer = setTimeout(() => socket.destroy(), limits.clientLingerMs)
    timer.unref()
    socket.once('close', () => clearTimeout(timer))
  }
}
