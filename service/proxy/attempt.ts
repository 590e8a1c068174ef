import type { ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import { RouterError } from '../errors'
import { endToEndHeaders } from './hop-by-hop'
import { classifyUpstreamError, type UpstreamFailure } from './upstream-failure'

type Controller = Dispatcher.DispatchController
type Headers = Record<string, string | string[] | undefined>

/** The request an attempt is made for: the exchange decides, the attempt carries bytes. */
export interface AttemptOwner {
  readonly res: ServerResponse
  readonly requestId: string
  /** Response headers arrived: stream them to the client, or discard them to retry. */
  response (attempt: Attempt, status: number, headers: Headers): 'stream' | 'discard'
  /** No usable response. When `headersSent`, the client connection has been cut. */
  failed (attempt: Attempt, failure: UpstreamFailure, headersSent: boolean): void
  /** The streamed response is complete. */
  completed (attempt: Attempt): void
}

/** Fields the router sets on every response; a gateway's own are replaced. */
const REPLACED: ReadonlySet<string> = new Set(['x-gateway-pod', 'x-request-id'])

/** String forms of small ordinals, made once rather than per response. */
const POD_LABELS = Array.from({ length: 256 }, (_, n) => String(n))

/**
 * One try of one request against one gateway pod, as an undici dispatch
 * handler: the response streams straight into the client's response with
 * backpressure, with no Readable, AbortController or closure per request.
 *
 * Invariant: once the client has a status line, a failure can only end the
 * connection. A truncated body must never look like a complete 200.
 */
export class Attempt implements Dispatcher.DispatchHandler {
  readonly pod: number
  readonly #owner: AttemptOwner
  #controller: Controller | undefined
  #abortReason: Error | undefined
  #discarding = false
  #over = false

  constructor (owner: AttemptOwner, pod: number) {
    this.#owner = owner
    this.pod = pod
  }

  /**
   * Whether undici has begun writing the request to a connected socket. Until
   * then it is connecting or waiting for a free connection, and the gateway
   * cannot have seen a byte of it.
   */
  get started (): boolean {
    return this.#controller !== undefined
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
    const owner = this.#owner
    if (owner.response(this, statusCode, headers) === 'discard') {
      // Read and drop the body so the connection can be reused.
      this.#discarding = true
      return
    }
    const out = endToEndHeaders(headers, REPLACED)
    out.push('x-gateway-pod', POD_LABELS[this.pod] ?? String(this.pod), 'x-request-id', owner.requestId)
    if (statusMessage) owner.res.writeHead(statusCode, statusMessage, out)
    else owner.res.writeHead(statusCode, out)
  }

  onResponseData (controller: Controller, chunk: Buffer): void {
    if (this.#over || this.#discarding) return
    const res = this.#owner.res
    if (!res.write(chunk)) {
      controller.pause()
      res.once('drain', () => controller.resume())
    }
  }

  onResponseEnd (): void {
    if (this.#over) return
    this.#over = true
    if (this.#discarding) return
    this.#owner.res.end()
    this.#owner.completed(this)
  }

  onResponseError (_controller: Controller, err: Error): void {
    if (this.#over) return
    this.#over = true
    if (this.#discarding) return
    // A router error here came from our own side (a chunked body over
    // MAX_BODY_BYTES), not from the gateway.
    const failure: UpstreamFailure = err instanceof RouterError
      ? { delivery: 'maybe-received', error: err }
      : classifyUpstreamError(err, this.pod)
    const res = this.#owner.res
    const headersSent = res.headersSent
    // Cut the connection: the client sees an error, never a short body that looks whole.
    if (headersSent) res.destroy(err)
    this.#owner.failed(this, failure, headersSent)
  }
}
