import type { ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import { RouterError } from '../errors'
import { endToEndHeaders } from './hop-by-hop'
import { classifyUpstreamError, type UpstreamFailure } from './upstream-failure'

type Controller = Dispatcher.DispatchController
type Headers = Record<string, string | string[] | undefined>

export interface AttemptHooks {
  /** Response headers arrived: stream them to the client, or discard them to retry. */
  response (status: number, headers: Headers): 'stream' | 'discard'
  /** No usable response. When `headersSent`, the client connection has been cut. */
  failed (failure: UpstreamFailure, headersSent: boolean): void
  /** The streamed response is complete. */
  completed (): void
}

/**
 * One try of one request against one gateway pod, as an undici dispatch
 * handler: the response streams straight into the client's response with
 * backpressure, with no Readable or AbortController per request.
 *
 * Invariant: once the client has a status line, a failure can only end the
 * connection. A truncated body must never look like a complete 200.
 */
export class Attempt implements Dispatcher.DispatchHandler {
  #controller: Controller | undefined
  #abortReason: Error | undefined
  #discarding = false
  #over = false
  readonly #res: ServerResponse
  readonly #pod: number
  readonly #extraHeaders: Readonly<Record<string, string>>
  readonly #hooks: AttemptHooks

  constructor (res: ServerResponse, pod: number, extraHeaders: Readonly<Record<string, string>>, hooks: AttemptHooks) {
    this.#res = res
    this.#pod = pod
    this.#extraHeaders = extraHeaders
    this.#hooks = hooks
  }

  /** Stops this try quietly: the caller has already decided what the client gets. */
  abort (reason: Error): void {
    if (this.#over) return
    this.#over = true
    this.#abortReason = reason
    this.#controller?.abort(reason)
  }

  onRequestStart (controller: Controller): void {
    this.#controller = controller
    // Aborted while still queued for a connection.
    if (this.#abortReason !== undefined) controller.abort(this.#abortReason)
  }

  onResponseStart (_controller: Controller, statusCode: number, headers: Headers, statusMessage?: string): void {
    if (statusCode < 200 || this.#over) return // 1xx are informational; the final status follows.
    if (this.#hooks.response(statusCode, headers) === 'discard') {
      // Read and drop the body so the connection can be reused.
      this.#discarding = true
      return
    }
    const out = endToEndHeaders(headers)
    Object.assign(out, this.#extraHeaders)
    if (statusMessage) this.#res.writeHead(statusCode, statusMessage, out)
    else this.#res.writeHead(statusCode, out)
  }

  onResponseData (controller: Controller, chunk: Buffer): void {
    if (this.#over || this.#discarding) return
    if (!this.#res.write(chunk)) {
      controller.pause()
      this.#res.once('drain', () => controller.resume())
    }
  }

  onResponseEnd (): void {
    if (this.#over) return
    this.#over = true
    if (this.#discarding) return
    this.#res.end()
    this.#hooks.completed()
  }

  onResponseError (_controller: Controller, err: Error): void {
    if (this.#over) return
    this.#over = true
    if (this.#discarding) return
    // A router error here came from our own side (a chunked body over
    // MAX_BODY_BYTES), not from the gateway.
    const failure: UpstreamFailure = err instanceof RouterError
      ? { delivery: 'maybe-received', error: err }
      : classifyUpstreamError(err, this.#pod)
    const headersSent = this.#res.headersSent
    // Cut the connection: the client sees an error, never a short body that looks whole.
    if (headersSent) this.#res.destroy(err)
    this.#hooks.failed(failure, headersSent)
  }
}
