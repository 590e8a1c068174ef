import type { ServerResponse } from 'node:http'
import type { RouterError } from '../errors'
import { lingerAfterAnswer, type LingerLimits } from './lingering-close'

/**
 * Answers with `{"error": code, "message": text}`. If a response is already
 * under way the connection is cut instead: a second status line is impossible
 * and a silently truncated body would look complete.
 */
export function sendError (res: ServerResponse, error: RouterError,
  ctx: { pod?: number, requestId?: string, retryAfterMs?: number, linger?: LingerLimits } = {}): void {
  if (res.headersSent) {
    res.destroy(error)
    return
  }
  // Answering before the request body was read: the rest of it may be
  // unbounded, so the connection closes after the answer instead of reading
  // it all to find the next request, lingering first so that the answer
  // arrives (lingering-close.ts).
  if (res.req !== undefined && !res.req.complete) {
    res.shouldKeepAlive = false
    if (ctx.linger !== undefined) lingerAfterAnswer(res, ctx.linger)
  }
  const body = JSON.stringify(error.toJSON())
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store'
  }
  if (ctx.pod !== undefined) headers['x-gateway-pod'] = String(ctx.pod)
  if (ctx.requestId !== undefined) headers['x-request-id'] = ctx.requestId
  // RFC 9110 §10.2.3: whole seconds, rounded up so a client never comes back early.
  if (ctx.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(ctx.retryAfterMs / 1000)))
  res.writeHead(error.status, headers)
  res.end(body)
}
