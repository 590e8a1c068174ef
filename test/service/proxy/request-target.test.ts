import { describe, expect, it } from 'vitest'
import { originForm, targetAuthority } from '../../../service/proxy/request-target'

describe('originForm', () => {
  it.each([
    ['/api/v10/guilds/1/x?y=1', '/api/v10/guilds/1/x?y=1'],
    ['*', '*'],
    // RFC 9112 §3.2.2: absolute-form keeps only its path and query.
    ['http://bot.example/api/v10/guilds/1/x?y=1', '/api/v10/guilds/1/x?y=1'],
    ['HTTPS://bot.example:8443/guilds/1', '/guilds/1'],
    ['http://bot.example', '/'],
    ['http://bot.example?guild_id=1', '/?guild_id=1'],
    // Only the path is checked: encoded slashes in a query are data.
    ['/guilds/1?next=%2F..%2Fx', '/guilds/1?next=%2F..%2Fx'],
    ['/guilds/1/emoji.png', '/guilds/1/emoji.png'],
    ['/guilds/1/...', '/guilds/1/...'],
    ['/guilds/1/..x', '/guilds/1/..x']
  ])('%s → %s', (target, expected) => {
    expect(originForm(target)).toBe(expected)
  })

  it.each([
    '/guilds/1/../2',
    '/guilds/1/..',
    '/guilds/1/..?x=1',
    '/guilds/1/./x',
    '/guilds/1/%2e%2e/2',
    '/guilds/1/%2E./2',
    '/guilds/1%2F..%2F2',
    '/guilds/1/x%5c..%5c2',
    '/guilds/1/x\\..\\2',
    'http://bot.example/guilds/1/../2',
    'bot.example:443',
    'guilds/1',
    'xhttp://bot.example/guilds/1'
  ])('%s is refused with invalid_path', target => {
    expect(() => originForm(target)).toThrow(expect.objectContaining({ code: 'invalid_path', status: 400 }))
  })

  it('says which rule a refused target broke', () => {
    expect(() => originForm('guilds/1')).toThrow(/must be a path starting with \/ \(origin-form\) or an http\(s\) URL/)
    expect(() => originForm('/guilds/1/../2')).toThrow(/has a dot-segment or an encoded dot, slash or backslash in its path/)
  })
})

describe('targetAuthority', () => {
  it.each([
    ['/guilds/1', undefined],
    ['*', undefined],
    ['http://bot.example/x', 'bot.example'],
    ['HTTPS://bot.example:8443/guilds/1', 'bot.example:8443'],
    ['http://bot.example?guild_id=1', 'bot.example'],
    ['http://user:pw@bot.example/x', 'bot.example'],
    ['http://[::1]:8080/x', '[::1]:8080'],
    ['ftp://bot.example/x', undefined],
    ['xhttp://bot.example/x', undefined]
  ])('%s → %s', (target, expected) => {
    expect(targetAuthority(target)).toBe(expected)
  })
})
