import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { mayCarryJsonGuild, readRequestHead } from '../../../service/proxy/request-head'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

function head (...rawHeaders: string[]): ReturnType<typeof readRequestHead> {
  return readRequestHead({ rawHeaders } as unknown as IncomingMessage)
}

describe('readRequestHead', () => {
  it('reads the fields the router needs, in any spelling, and passes the rest on in order', () => {
    const h = head('Host', 'router', 'X-Guild-Id', '42', 'Accept', '*/*', 'content-type', 'application/json',
      'Content-Length', '7', 'x-custom', 'a', 'x-custom', 'b')
    expect(h).toMatchObject({ guildHeader: '42', host: 'router', contentType: 'application/json', length: 7 })
    expect(h.passOn).toEqual(['Accept', '*/*', 'content-type', 'application/json', 'Content-Length', '7', 'x-custom', 'a', 'x-custom', 'b'])
  })

  it.each([
    ['nothing', [], 0],
    ['Content-Length', ['Content-Length', '0'], 0],
    ['Content-Length wins over Transfer-Encoding', ['Content-Length', '12', 'Transfer-Encoding', 'chunked'], 12],
    ['Transfer-Encoding', ['Transfer-Encoding', 'chunked'], 'chunked']
  ] as Array<[string, string[], number | 'chunked']>)('declared body length from %s', (_what, raw, length) => {
    expect(head(...raw).length).toBe(length)
  })

  it('joins repeated fields as Node does, and keeps the first Host and Content-Type', () => {
    const h = head('x-guild-id', '1', 'X-Guild-Id', '2', 'Host', 'a', 'host', 'b', 'Content-Type', 'text/plain', 'content-type', 'application/json',
      'X-Forwarded-For', '10.0.0.1', 'x-forwarded-for', '10.0.0.2')
    expect(h).toMatchObject({ guildHeader: '1, 2', host: 'a', contentType: 'text/plain', forwardedFor: '10.0.0.1, 10.0.0.2' })
  })

  it('never passes on hop-by-hop fields, names listed in Connection, or fields the router writes itself', () => {
    const h = head('Connection', 'keep-alive, X-Secret', 'Keep-Alive', 'timeout=5', 'TE', 'trailers', 'Upgrade', 'h2c',
      'Transfer-Encoding', 'chunked', 'Expect', '100-continue', 'Proxy-Authorization', 'Basic x', 'x-secret', 's',
      'X-Request-Id', 'abc', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'evil', 'X-Gateway-Failover', '1', 'Host', 'h',
      'x-kept', 'k')
    expect(h.passOn).toEqual(['x-kept', 'k'])
    expect(h).toMatchObject({ requestId: 'abc', forwardedProto: 'https', forwardedHost: 'evil' })
  })

  it.each([
    ['absent', []],
    ['empty', ['x-request-id', '']],
    ['over 200 characters', ['x-request-id', 'r'.repeat(201)]]
  ] as Array<[string, string[]]>)('makes a fresh request id when the client\'s is %s', (_what, raw) => {
    expect(head(...raw).requestId).toMatch(UUID)
  })

  it.each([
    [['Content-Type', 'application/json', 'Content-Length', '2'], true],
    [['Content-Type', 'application/vnd.api+json', 'Transfer-Encoding', 'chunked'], true],
    [['Content-Type', 'application/json'], false], // no body
    [['Content-Type', 'text/plain', 'Content-Length', '2'], false]
  ] as Array<[string[], boolean]>)('a body worth reading for guild_id: %j → %s', (raw, expected) => {
    expect(mayCarryJsonGuild(head(...raw))).toBe(expected)
  })
})
