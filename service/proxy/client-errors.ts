import { randomUUID } from 'node:crypto'
import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { ErrorCode } from '../errors'
import type { RouterMetrics } from '../telemetry/metrics'
import { ALLOWED_METHODS } from './proxy-handler'
import { readRequestHead } from './request-head'

interface ParserError { readonly status: number, readonly code: ErrorCode, readonly message: string }

/**
 * What a request Node's HTTP parser refused gets, by the parser's error
 * code: the statuses Node itself would send, with the router's JSON body.
 * Pure, so the table is tested on its own.
 */
export function parserErrorFor (code: string | undefined): ParserError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'headers_too_large', message: 'request headers exceed the server\'s limit' }
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'request_timeout', message: 'the request was not received in time (CLIENT_HEADERS_TIMEOUT_MS / CLIENT_REQUEST_TIMEOUT_MS)' }
    default:
      return { status: 400, code: 'bad_request', message: 'malformed HTTP request' }
  }
}

/**
 * The server's `clientError` hook. Answers on the raw socket only when that
 * is still possible: a writable socket with no response under way (a
 * pipelined request's answer would otherwise arrive before an earlier one's).
 */
export function answerClientError (err: Error & { code?: string }, socket: Duplex, metrics?: RouterMetrics): void {
  const current = (socket as { _httpMessage?: unknown })._httpMessage
  if (err.code === 'ECONNRESET' || !socket.writable || (current !== undefined && current !== null)) {
    socket.destroy()
    return
  }
  const { status, code, message } = parserErrorFor(err.code)
  writeRaw(socket, status, code, message, randomUUID())
  metrics?.observe(-1, status, 0)
}

/**
 * The server's `connect` hook: the router is not a forward proxy, so CONNECT
 * gets a JSON 405 instead of Node's default of closing the socket unanswered.
 */
export function answerConnect (req: IncomingMessage, socket: Duplex, metrics?: RouterMetrics): void {
  writeRaw(socket, 405, 'method_not_allowed',
    `CONNECT ${req.url ?? ''} is not served: the router is a reverse proxy, not a forward proxy`, readRequestHead(req).requestId, ALLOWED_METHODS)
  metrics?.observe(-1, 405, 0)
}

/** A whole response on a socket no ServerResponse owns; the connection closes after it. */
function writeRaw (socket: Duplex, status: number, code: ErrorCode, message: string, requestId: string, allow?: string): void {
  const body = JSON.stringify({ error: code, message })
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'cache-control: no-store',
    `x-request-id: ${requestId}`,
    ...(allow === undefined ? [] : [`allow: ${allow}`]),
    'connection: close'
  ]
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`)
}
