import { describe, expect, it } from 'vitest'
import { guildFromJsonBody, guildFromRequestLine, segmentAfterGuilds } from '../../../service/proxy/guild-source'

describe('guildFromRequestLine', () => {
  it.each([
    ['/interactions', '123', { id: '123', source: 'header x-guild-id' }],
    ['/guilds/123/members', undefined, { id: '123', source: 'path /guilds/<id>' }],
    ['/api/v10/guilds/123', undefined, { id: '123', source: 'path /guilds/<id>' }],
    ['/api/v10/guilds/123?with_counts=true', undefined, { id: '123', source: 'path /guilds/<id>' }],
    ['/x?guild_id=123', undefined, { id: '123', source: 'query guild_id' }],
    ['/x?a=1&guild_id=123&guild_id=123', undefined, { id: '123', source: 'query guild_id' }],
    // Every source that agrees: the header wins by precedence.
    ['/guilds/123?guild_id=123', '123', { id: '123', source: 'header x-guild-id' }],
    ['/guilds/123?guild_id=123', undefined, { id: '123', source: 'path /guilds/<id>' }],
    ['/users/@me/guilds', undefined, undefined],
    ['/guilds/', undefined, undefined],
    // The same guild named twice in a path is one guild.
    ['/guilds/123/x/guilds/123', undefined, { id: '123', source: 'path /guilds/<id>' }],
    ['/xguilds/123', undefined, undefined],
    ['/x?guild=123', undefined, undefined],
    ['/', undefined, undefined],
    // Only a query counts as a query: guild_id= in a path is a path.
    ['/x/guild_id=5', undefined, undefined],
    ['/?guild_id=5', undefined, { id: '5', source: 'query guild_id' }]
  ])('%s with header %j', (url, header, expected) => {
    expect(guildFromRequestLine(url, header)).toEqual(expected)
  })

  it.each([
    ['/x', '0123', 'invalid_guild_id', /header x-guild-id "0123" has a leading zero/],
    ['/x', '1, 2', 'invalid_guild_id', /header x-guild-id/],
    ['/guilds/abc/members', undefined, 'invalid_guild_id', /path \/guilds\/<id> "abc"/],
    ['/x?guild_id=', undefined, 'invalid_guild_id', /query guild_id "" is empty/],
    ['/guilds/1', '2', 'conflicting_guild_id', /1 from header x-guild-id|2 from header x-guild-id/],
    ['/guilds/1?guild_id=2', undefined, 'conflicting_guild_id', /guild id 1 from path \/guilds\/<id> disagrees with 2 from query guild_id/],
    ['/x?guild_id=1&guild_id=2', undefined, 'conflicting_guild_id', /disagrees/],
    // A gateway's router may match either segment: two ids in one path conflict.
    ['/guilds/1/channels/guilds/2', undefined, 'conflicting_guild_id', /guild id 1 from path \/guilds\/<id> disagrees with 2 from path/],
    ['/guilds/1/guilds/x', undefined, 'invalid_guild_id', /path \/guilds\/<id> "x"/],
    // A valid header does not excuse a malformed id elsewhere.
    ['/guilds/01', '1', 'invalid_guild_id', /path/]
  ])('%s with header %j fails with %s', (url, header, code, message) => {
    let thrown: unknown
    try { guildFromRequestLine(url, header) } catch (err) { thrown = err }
    expect(thrown).toMatchObject({ code })
    expect((thrown as Error).message).toMatch(message)
  })
})

describe('segmentAfterGuilds', () => {
  it.each([
    ['/guilds/1', '1'], ['/guilds/1/', '1'], ['/a/guilds/22/b', '22'], ['/guilds', undefined], ['/guildsx/1', undefined],
    ['/guilds/', undefined], ['/guilds//x', undefined]
  ])('%s → %s', (path, expected) => {
    expect(segmentAfterGuilds(path)).toBe(expected)
  })
})

describe('guildFromJsonBody', () => {
  const b = (s: string): Buffer => Buffer.from(s)
  it.each([
    ['{"type":2,"guild_id":"81384788765712384","data":{}}', '81384788765712384'],
    ['{"type":1}', undefined], // Discord PING: no guild
    ['{"guild_id":null}', undefined],
    ['[{"guild_id":"1"}]', undefined],
    ['not json', undefined],
    ['not json, though it says guild_id', undefined],
    ['{"data":{"guild_id":"5"}}', undefined], // only the top level counts
    ['{"guild\\u005fid":"7"}', '7'], // an escaped key is still the key
    ['{"guild_id":"7","guild_id":"7"}', '7'], // repeated with one value
    ['{"guild_id":"12","guild_id":"1\\u0032"}', '12'], // the same value, escaped
    ['{"guild_id":"7","channel":{"guild_id":"8"},"x":["guild_id","9"]}', '7'] // nested and array strings are not members
  ])('%s → %s', (body, expected) => {
    expect(guildFromJsonBody(b(body))).toBe(expected)
  })

  it.each([
    ['{"guild_id":81384788765712384}', /^guild id from body guild_id must be a JSON string, got number$/],
    ['{"guild_id":"0081"}', /^guild id from body guild_id "0081" has a leading zero/],
    ['{"guild_id":"x"}', /digits only/],
    ['{"guild_id":"7","guild_id":"8"}', / from a repeated body guild_id$/],
    // JSON.parse would take the last; a gateway's parser may take the first.
    ['{"guild_id":"7","guild_id":"8"}', /guild id "7" from body guild_id disagrees with "8"/],
    ['{"guild_id":"8","type":2,"guild_id":"7"}', /"8" .* "7"/],
    ['{"guild\\u005fid":"7", "guild_id" : "8"}', /"7" .* "8"/],
    ['{"guild_id":7,"guild_id":"7"}', /disagrees/]
  ])('%s is invalid', (body, message) => {
    expect(() => guildFromJsonBody(b(body))).toThrow(message)
  })
})
