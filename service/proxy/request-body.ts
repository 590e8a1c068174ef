import type { IncomingMessage } from 'node:http'
import { Transform, type Readable } from 'node:stream'
import { PayloadTooLargeError } from '../errors'

/**
 * Reads the whole body, failing with PayloadTooLargeError as soon as it passes
 * `limit`. Used only when the guild id must come from the body.
 */
export function readBody (req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        req.pause()
        reject(new PayloadTooLargeError(limit))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => { cleanup(); resolve(chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size)) }
    const onError = (err: Error): void => { cleanup(); reject(err) }
    const cleanup = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('aborted', onAborted)
    }
    const onAborted = (): void => { cleanup(); reject(new Error('client aborted the request body')) }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('aborted', onAborted)
  })
}

/**
 * A pass-through that fails once more than `limit` bytes went through: a
 * chunked body has no length to check up front.
 */
export function limitBody (body: Readable, limit: number): Readable {
  let size = 0
  const limiter = new Transform({
    transform (chunk: Buffer, _encoding, callback) {
      size += chunk.length
      if (size > limit) callback(new PayloadTooLargeError(limit))
      else callback(null, chunk)
    }
  })
  body.on('error', err => limiter.destroy(err))
  return body.pipe(limiter)
}
