import type { ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import { GatewayTimeoutError, RouterError } from '../errors'
import { endToEndHeaders } from './hop-by-hop'
import { classifyUpstreamError, type UpstreamFailure } from './upstream-failure'

type Controller = Dispatcher.DispatchController
type Headers = Record<string, string | string[] | undefined>

export interface ExchangeHooks {
  /** The exchange is over: `status` is what the client got (0 if it went away). */
  finished (status: number): void
  /** The gateway could not give a response; headers are not sent yet when `respond` is given. */
  failed (failure: UpstreamFailure, headersSent: boolean): void
  /** Answer the client with a router error (headers not sent yet). */
  respond (error: RouterError): void
}

/**
 * One request to one gateway pod, streaming the answer straight into the
 * client's response with backpressure. It is an undici dispatch handler, the
 * lowest-cost way to proxy with undici: no Readable or AbortController per
 * request.
 *
 * Invariant: once the client has a status line, a failure can only end the
 * connection. A truncated body must never look like a complete 200.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  #controller: Controller | undefined
  #timer: NodeJS.Timeout | undefined
  #over = false
  #status = 0
  readonly #res: ServerResponse
  readonly #pod: string
  readonly #podOrdinal: number
  readonly #requestId: string
  readonly #hooks: ExchangeHooks

  constructor (res: ServerResponse, pod: number, requestId: string, deadlineMs: number, hooks: ExchangeHooks) {
    this.#res = res
    this.#podOrdinal = pod
    this.#pod = String(pod)
    this.#requestId = requestId
    this.#hooks = hooks
    this.#timer = setTimeout(this.#onDeadline, deadlineMs)
    res.once('close', this.#onClientClose)
  }

  onRequestStart (controller: Controller): void {
    this.#controller = controller
    // The deadline may pass while the request waits for a free connection.
    if (this.#over) controller.abort(new Error('request already answered'))
  }

  onResponseStart (controller: Controller, statusCode: number, headers: Headers, statusMessage?: string): void {
    if (statusCode < 200) return // 1xx: informational, the final status follows.
    if (this.#over) { controller.abort(new Error('request already answered')); return }
    clearTimeout(this.#timer)
    const out = endToEndHeaders(headers)
    out['x-gateway-pod'] = this.#pod
    out['x-request-id'] = this.#requestId
    this.#status = statusCode
    if (statusMessage) this.#res.writeHead(statusCode, statusMessage, out)
    else this.#res.writeHead(statusCode, out)
  }

  onResponseData (controller: Controller, chunk: Buffer): void {
    if (this.#over) return
    if (!this.#res.write(chunk)) {
      controller.pause()
      this.#res.once('drain', () => controller.resume())
    }
  }

  onResponseEnd (): void {
    if (this.#over) return
    this.#over = true
    this.#res.end()
    this.#hooks.finished(this.#status)
  }

  onResponseError (_controller: Controller, err: Error): void {
    clearTimeout(this.#timer)
    if (this.#over) return
    this.#over = true
    // A router error here came from our own side of the exchange (a chunked
    // body over MAX_BODY_BYTES), not from the gateway.
    const failure: UpstreamFailure = err instanceof RouterError
      ? { delivery: 'maybe-received', error: err }
      : classifyUpstreamError(err, this.#podOrdinal)
    const headersSent = this.#res.headersSent
    this.#hooks.failed(failure, headersSent)
    if (headersSent) {
      // Cut the connection: the client sees an error, never a short body that looks whole.
      this.#res.destroy(err)
      this.#hooks.finished(0)
    } else {
      this.#hooks.respond(failure.error)
      this.#hooks.finished(failure.error.status)
    }
  }

  readonly #onDeadline = (): void => {
    if (this.#over) return
    this.#over = true
    const error = new GatewayTimeoutError(this.#podOrdinal, 'no response before the request deadline')
    this.#hooks.failed({ delivery: 'maybe-received', error }, false)
    this.#hooks.respond(error)
    this.#hooks.finished(error.status)
    // Still queued for a connection? onRequestStart aborts it when it gets one.
    this.#controller?.abort(error)
  }

  readonly #onClientClose = (): void => {
    clearTimeout(this.#timer)
    if (this.#over) return
    // The client hung up: stop the gateway's work on its behalf too.
    this.#over = true
    this.#controller?.abort(new Error('client closed the connection'))
    this.#hooks.finished(0)
  }
}
