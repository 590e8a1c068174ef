import { describe, expect, it } from 'vitest'
import { classifyUpstreamError, errorCode } from '../../../service/proxy/upstream-failure'

const err = (code: string, extra: object = {}): Error => Object.assign(new Error(code), { code }, extra)

describe('classifyUpstreamError', () => {
  // The message is what the client reads after "gateway pod N: ", so each row's is pinned.
  it.each([
    ['ECONNREFUSED', 'never-sent', 'gateway_unavailable', 503, 'connection refused (pod not listening)'],
    ['ENOTFOUND', 'never-sent', 'gateway_unavailable', 503, 'host does not resolve (pod not ready or not scheduled)'],
    ['EAI_AGAIN', 'never-sent', 'gateway_unavailable', 503, 'DNS lookup failed temporarily'],
    ['EAI_NODATA', 'never-sent', 'gateway_unavailable', 503, 'host does not resolve (pod not ready or not scheduled)'],
    ['EAI_NONAME', 'never-sent', 'gateway_unavailable', 503, 'host does not resolve (pod not ready or not scheduled)'],
    ['EHOSTUNREACH', 'never-sent', 'gateway_unavailable', 503, 'host unreachable'],
    ['ENETUNREACH', 'never-sent', 'gateway_unavailable', 503, 'network unreachable'],
    ['EADDRNOTAVAIL', 'never-sent', 'gateway_unavailable', 503, 'address not available'],
    ['UND_ERR_CONNECT_TIMEOUT', 'never-sent', 'gateway_unavailable', 503, 'connect timeout'],
    ['UND_ERR_HEADERS_TIMEOUT', 'maybe-received', 'gateway_timeout', 504, 'no response headers before the deadline'],
    ['UND_ERR_BODY_TIMEOUT', 'maybe-received', 'gateway_timeout', 504, 'response body stalled'],
    ['UND_ERR_SOCKET', 'maybe-received', 'bad_gateway', 502, 'connection closed before the response completed'],
    ['ECONNRESET', 'maybe-received', 'bad_gateway', 502, 'connection reset'],
    ['EPIPE', 'maybe-received', 'bad_gateway', 502, 'connection closed while sending the request'],
    ['UND_ERR_CLOSED', 'maybe-received', 'bad_gateway', 502, 'connection closed'],
    ['HPE_INVALID_CONSTANT', 'maybe-received', 'bad_gateway', 502, 'invalid HTTP response'],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'maybe-received', 'bad_gateway', 502, 'response shorter or longer than its content-length'],
    // Anything unknown is the cautious answer: it may have arrived.
    ['SOMETHING_NEW', 'maybe-received', 'bad_gateway', 502, 'invalid or interrupted response']
  ])('%s → %s, %s %i', (code, delivery, errorCodeName, status, message) => {
    const cause = err(code)
    const failure = classifyUpstreamError(cause, 2)
    expect(failure.delivery).toBe(delivery)
    expect(failure.error.code).toBe(errorCodeName)
    expect(failure.error.status).toBe(status)
    expect(failure.error.message).toBe(`gateway pod 2: ${message}`)
    // The socket error stays attached for the logs.
    expect(failure.error.cause).toBe(cause)
  })

  it('treats an error with no code at all as maybe received', () => {
    expect(classifyUpstreamError(new Error('?'), 0).delivery).toBe('maybe-received')
    expect(classifyUpstreamError('not even an Error', 0).error.code).toBe('bad_gateway')
  })

  it('finds the socket error inside an AggregateError or a cause', () => {
    const aggregate = Object.assign(new AggregateError([err('ECONNREFUSED'), err('ECONNREFUSED')]), { code: 'ECONNREFUSED' })
    expect(errorCode(aggregate)).toBe('ECONNREFUSED')
    const nested = Object.assign(new AggregateError([err('ECONNREFUSED')]))
    expect(errorCode(nested)).toBe('ECONNREFUSED')
    expect(errorCode(err('UND_ERR_SOCKET', { cause: err('ECONNRESET') }))).toBe('UND_ERR_SOCKET')
    expect(errorCode(new Error('x', { cause: err('ENOTFOUND') }))).toBe('ENOTFOUND')
  })

  it('looks past undici\'s generic UND_ERR and unknown codes to a known cause, and returns an unknown code only when nothing better is found', () => {
    expect(errorCode(err('UND_ERR', { cause: err('ECONNRESET') }))).toBe('ECONNRESET')
    expect(errorCode(err('WEIRD', { cause: err('ECONNREFUSED') }))).toBe('ECONNREFUSED')
    expect(errorCode(err('WEIRD'))).toBe('WEIRD')
    expect(errorCode(Object.assign(new AggregateError([]), { cause: err('EPIPE') }))).toBe('EPIPE')
    expect(errorCode(new Error('no code'))).toBeUndefined()
    expect(errorCode(null)).toBeUndefined()
    expect(errorCode('ECONNRESET')).toBeUndefined()
  })

  it('follows at most four wrappers deep', () => {
    const wrapped = (depth: number): unknown => depth === 0 ? err('ECONNREFUSED') : new Error(`wrap ${depth}`, { cause: wrapped(depth - 1) })
    expect(errorCode(wrapped(3))).toBe('ECONNREFUSED')
    expect(errorCode(wrapped(4))).toBeUndefined()
    expect(errorCode(wrapped(40))).toBeUndefined()
  })
})
