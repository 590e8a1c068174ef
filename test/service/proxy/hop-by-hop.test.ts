import { describe, expect, it } from 'vitest'
import { connectionListed, endToEndHeaders } from '../../../service/proxy/hop-by-hop'

describe('hop-by-hop headers', () => {
  it('parses Connection tokens case-insensitively', () => {
    expect(connectionListed('close, X-Secret ,  keep-alive')).toEqual(new Set(['close', 'x-secret', 'keep-alive']))
    expect(connectionListed(undefined)).toBeUndefined()
    expect(connectionListed(' , ')).toBeUndefined()
  })

  it('drops RFC 9110 hop-by-hop fields and every name Connection lists', () => {
    expect(endToEndHeaders({
      connection: 'x-hop',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      te: 'trailers',
      trailer: 'x-t',
      upgrade: 'h2c',
      'proxy-authenticate': 'Basic',
      'x-hop': 'secret',
      'content-type': 'application/json',
      'set-cookie': ['a=1', 'b=2']
    })).toEqual({ 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] })
  })
})
