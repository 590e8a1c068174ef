import { describe, expect, it } from 'vitest'
import { classifyUpstreamError, errorCode } from '../../../service/proxy/upstream-failure'

const err = (code: string, extra: object = {}): Error => Object.assign(new Error(code), { code }, extra)

describe('classifyUpstreamError', () => {
  it.each([
    ['ECONNREFUSED', 'never-sent', 'gateway_unavailable', 503],
    ['ENOTFOUND', 'never-sent', 'gateway_unavailable', 503],
    ['EAI_AGAIN', 'never-sent', 'gateway_unavailable', 503],
    ['UND_ERR_CONNECT_TIMEOUT', 'never-sent', 'gateway_unavailable', 503],
    ['UND_ERR_HEADERS_TIMEOUT', 'maybe-received', 'gateway_timeout', 504],
    ['UND_ERR_BODY_TIMEOUT', 'maybe-received', 'gateway_timeout', 504],
    ['ECONNRESET', 'maybe-received', 'bad_gateway', 502],
    ['UND_ERR_SOCKET', 'maybe-received', 'bad_gateway', 502],
    ['SOMETHING_NEW', 'maybe-received', 'bad_gateway', 502]
  ])('%s → %s, %s %i', (code, delivery, errorCodeName, status) => {
    const failure = classifyUpstreamError(err(code), 2)
    expect(failure.delivery).toBe(delivery)
    expect(failure.error.code).toBe(errorCodeName)
    expect(failure.error.status).toBe(status)
    expect(failure.error.message).toMatch(/^gateway pod 2: /)
  })

  it('finds the socket error inside an AggregateError or a cause', () => {
    const aggregate = Object.assign(new AggregateError([err('ECONNREFUSED'), err('ECONNREFUSED')]), { code: 'ECONNREFUSED' })
    expect(errorCode(aggregate)).toBe('ECONNREFUSED')
    const nested = Object.assign(new AggregateError([err('ECONNREFUSED')]))
    expect(errorCode(nested)).toBe('ECONNREFUSED')
    expect(errorCode(err('UND_ERR_SOCKET', { cause: err('ECONNRESET') }))).toBe('UND_ERR_SOCKET')
    expect(errorCode(new Error('x', { cause: err('ENOTFOUND') }))).toBe('ENOTFOUND')
  })
})
