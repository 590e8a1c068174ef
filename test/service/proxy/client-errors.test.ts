import { describe, expect, it } from 'vitest'
import { parserErrorFor } from '../../../service/proxy/client-errors'
import { timeoutCheckInterval } from '../../../service/router/proxy-server'

describe('parserErrorFor', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431, 'headers_too_large'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'request_timeout'],
    ['HPE_INVALID_HEADER_TOKEN', 400, 'bad_request'],
    ['HPE_INVALID_METHOD', 400, 'bad_request'],
    [undefined, 400, 'bad_request']
  ])('%s → %i %s', (code, status, error) => {
    expect(parserErrorFor(code)).toMatchObject({ status, code: error })
  })
})

describe('timeoutCheckInterval', () => {
  it.each([[10_000, 1_000], [30_000, 1_000], [2_000, 200], [5, 1]])('headers timeout %i ms → checked every %i ms', (ms, expected) => {
    expect(timeoutCheckInterval({ clientHeadersTimeoutMs: ms })).toBe(expected)
  })
})
