import { describe, expect, it } from 'vitest'
import { connectionListed, endToEndHeaders, extraConnectionNames } from '../../../service/proxy/hop-by-hop'

describe('hop-by-hop headers', () => {
  it('parses Connection tokens case-insensitively', () => {
    expect(connectionListed('close, X-Secret ,  keep-alive')).toEqual(new Set(['close', 'x-secret', 'keep-alive']))
    expect(connectionListed(undefined)).toBeUndefined()
    expect(connectionListed(' , ')).toBeUndefined()
  })

  it.each([
    [undefined, undefined],
    ['keep-alive', undefined],
    ['Keep-Alive', undefined],
    ['close', undefined],
    [' close ', undefined],
    ['close, keep-alive', undefined],
    ['X-Secret', ['x-secret']],
    ['keep-alive, X-Secret', ['keep-alive', 'x-secret']],
    [['keep-alive', 'x-a'], ['keep-alive', 'x-a']]
  ] as Array<[string | string[] | undefined, string[] | undefined]>)('Connection %j lists %j beyond the hop-by-hop set', (value, names) => {
    const listed = extraConnectionNames(value)
    expect(listed === undefined ? undefined : [...listed]).toEqual(names)
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
    })).toEqual(['content-type', 'application/json', 'set-cookie', ['a=1', 'b=2']])
  })

  it('leaves out the fields the router sets itself', () => {
    expect(endToEndHeaders({ 'x-request-id': 'theirs', 'x-gateway-pod': '7', 'content-length': '2' }, new Set(['x-request-id', 'x-gateway-pod'])))
      .toEqual(['content-length', '2'])
  })
})
