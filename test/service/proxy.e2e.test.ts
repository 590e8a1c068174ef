import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { md5Mod } from '../../service/routing/strategies'
import { guildOwnedBy } from '../helpers/guilds'
import { rawRequest } from '../helpers/raw-http'
import { Cleanup, startGateways, startRouterProcess, type RouterProcess } from '../helpers/topology'

interface Echo {
  ordinal: number
  method: string
  url: string
  guildId: string | null
  headers: Record<string, string>
  rawHeaders: string[]
  bodyBytes: number
  bodySha256: string
}

const cleanup = new Cleanup()
let router: RouterProcess
const GUILD = '81384788765712384'

beforeAll(async () => {
  const gateways = await startGateways(cleanup, 3, 'md5-mod')
  router = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '3', GATEWAY_URLS: gateways.urls.join(',') })
})
afterAll(() => cleanup.run())

async function send (path: string, init: Parameters<typeof request>[1] = {}) {
  const res = await request(`${router.base}${path}`, init)
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as Echo & { error: string, message: string } }
}

describe('routing by each guild id source', () => {
  it('header x-guild-id reaches the predicted pod with the canonical id and forwarding headers', async () => {
    const res = await send('/interactions?x=1', { headers: { 'x-guild-id': GUILD, 'x-request-id': 'req-42', host: 'bot.example' } })
    expect(res.status).toBe(200)
    const echo = res.json()
    const expected = md5Mod(GUILD, 3)
    expect(res.headers['x-gateway-pod']).toBe(String(expected))
    expect(echo.ordinal).toBe(expected)
    expect(echo.url).toBe('/interactions?x=1')
    expect(echo.headers['x-guild-id']).toBe(GUILD)
    expect(echo.headers['x-request-id']).toBe('req-42')
    expect(res.headers['x-request-id']).toBe('req-42')
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1')
    expect(echo.headers['x-forwarded-proto']).toBe('http')
    expect(echo.headers['x-forwarded-host']).toBe('bot.example')
  })

  it('generates a request id when the client sends none', async () => {
    const echo = (await send('/x', { headers: { 'x-guild-id': GUILD } })).json()
    expect(echo.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('appends to an x-forwarded-for chain and replaces a spoofed proto', async () => {
    const echo = (await send('/x', { headers: { 'x-guild-id': GUILD, 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' } })).json()
    expect(echo.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1')
    expect(echo.headers['x-forwarded-proto']).toBe('http')
  })

  it.each([
    ['path', `/api/v10/guilds/${GUILD}/members`, undefined],
    ['query', `/interactions?guild_id=${GUILD}`, undefined],
    ['body', '/interactions', JSON.stringify({ type: 2, guild_id: GUILD, data: { name: 'ping' } })]
  ])('%s', async (_source, path, body) => {
    const res = await send(path, body === undefined ? {} : { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(200)
    expect(res.json().ordinal).toBe(md5Mod(GUILD, 3))
    expect(res.json().headers['x-guild-id']).toBe(GUILD)
    if (body !== undefined) expect(res.json().bodySha256).toBe(createHash('sha256').update(body).digest('hex'))
  })

  it('header wins over path, query and body when they agree', async () => {
    const res = await send(`/guilds/${GUILD}?guild_id=${GUILD}`, {
      method: 'POST', headers: { 'x-guild-id': GUILD, 'content-type': 'application/json' }, body: `{"guild_id":"${GUILD}"}`
    })
    expect(res.status).toBe(200)
    expect(res.json().ordinal).toBe(md5Mod(GUILD, 3))
  })

  it('a JSON body is checked even when the header names the guild (a numeric guild_id is invalid)', async () => {
    const res = await send('/interactions', {
      method: 'POST', headers: { 'x-guild-id': GUILD, 'content-type': 'application/json' }, body: '{"guild_id":81384788765712384}'
    })
    expect(res.status).toBe(400)
    expect(res.json().error).toBe('invalid_guild_id')
  })

  it('a body that is not JSON is not parsed, whatever it contains', async () => {
    const res = await send('/interactions', {
      method: 'POST', headers: { 'x-guild-id': GUILD, 'content-type': 'text/plain' }, body: '{"guild_id":"1"}'
    })
    expect(res.status).toBe(200)
    expect(res.json().ordinal).toBe(md5Mod(GUILD, 3))
  })

  it('every strategy input reaches the pod the gateway itself agrees it owns (no 421 for 300 guilds)', async () => {
    for (let pod = 0; pod < 3; pod++) {
      const id = guildOwnedBy(pod, 3)
      const res = await send(`/guilds/${id}`)
      expect(res.status).toBe(200)
      expect(res.json().ordinal).toBe(pod)
    }
  })
})

describe('error codes', () => {
  it.each([
    ['missing_guild_id', 400, '/interactions', {}],
    ['missing_guild_id', 400, '/interactions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":1}' }],
    ['missing_guild_id', 400, '/interactions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'not json' }],
    ['invalid_guild_id', 400, '/x', { headers: { 'x-guild-id': '0123' } }],
    ['invalid_guild_id', 400, '/guilds/12a', {}],
    ['invalid_guild_id', 400, '/x?guild_id=18446744073709551616', {}],
    ['invalid_guild_id', 400, '/x', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"guild_id":81384788765712384}' }],
    ['conflicting_guild_id', 400, `/guilds/${GUILD}`, { headers: { 'x-guild-id': '1' } }],
    ['conflicting_guild_id', 400, '/guilds/1?guild_id=2', {}]
  ] as const)('%s %i for %s', async (code, status, path, init) => {
    const res = await send(path, init as Parameters<typeof request>[1])
    expect(res.status).toBe(status)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    const body = res.json()
    expect(body.error).toBe(code)
    expect(typeof body.message).toBe('string')
    expect(Object.keys(body).sort()).toEqual(['error', 'message'])
    expect(res.text).not.toMatch(/at .*\.js:\d+/) // no stack trace
  })

  it('payload_too_large 413 from content-length, before anything is forwarded', async () => {
    const res = await send('/x', { method: 'POST', headers: { 'x-guild-id': GUILD }, body: Buffer.alloc(1_048_577) })
    expect(res.status).toBe(413)
    expect(res.json().error).toBe('payload_too_large')
  })

  it('payload_too_large 413 for a JSON body read to find its guild', async () => {
    const big = JSON.stringify({ guild_id: GUILD, pad: 'x'.repeat(1_048_576) })
    const res = await send('/interactions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })
    expect(res.status).toBe(413)
  })

  it('payload_too_large for a chunked body that grows past the limit', async () => {
    const chunk = Buffer.alloc(256 * 1024, 1)
    async function * body () { for (let i = 0; i < 5; i++) yield chunk }
    let status: number | undefined
    try {
      const res = await request(`${router.base}/x`, { method: 'POST', headers: { 'x-guild-id': GUILD }, body: Readable.from(body()) })
      status = res.statusCode
      await res.body.text()
    } catch {
      status = -1 // the router may cut the connection while the client is still sending
    }
    expect([413, -1]).toContain(status)
  })
})

describe('bytes and headers', () => {
  it('1 MiB of random binary body arrives byte-identical and streams back', async () => {
    const body = randomBytes(1_048_576)
    const res = await request(`${router.base}/upload`, {
      method: 'POST', body, headers: { 'x-guild-id': GUILD, 'x-echo-body': '1', 'content-type': 'application/octet-stream' }
    })
    const back = Buffer.from(await res.body.arrayBuffer())
    expect(res.statusCode).toBe(200)
    expect(back.equals(body)).toBe(true)
  })

  it('a 1 MiB JSON body read for its guild id is forwarded byte-identical', async () => {
    const text = `{ "guild_id" : "${GUILD}",\n  "pad": "${'é'.repeat(200_000)}" }`
    const res = await send('/interactions', { method: 'POST', body: text, headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(200)
    expect(res.json().bodyBytes).toBe(Buffer.byteLength(text))
    expect(res.json().bodySha256).toBe(createHash('sha256').update(text).digest('hex'))
  })

  it('strips hop-by-hop request headers, including those Connection names', async () => {
    const res = await rawRequest(router.base, [
      'POST /x HTTP/1.1',
      'Host: 127.0.0.1',
      `X-Guild-Id: ${GUILD}`,
      'Connection: close, X-Secret-Hop',
      'X-Secret-Hop: 1',
      'Keep-Alive: timeout=5',
      'TE: trailers',
      'Proxy-Authorization: Basic Zm9vOmJhcg==',
      'Upgrade: websocket',
      'X-End-To-End: kept',
      'X-Dup: a',
      'X-Dup: b',
      'Content-Length: 2',
      '',
      'ok'
    ].join('\r\n'))
    expect(res.status).toBe(200)
    const echo = JSON.parse(res.body) as Echo
    const names = echo.rawHeaders.filter((_, i) => i % 2 === 0).map(n => n.toLowerCase())
    for (const hop of ['x-secret-hop', 'keep-alive', 'te', 'proxy-authorization', 'upgrade']) expect(names).not.toContain(hop)
    expect(echo.headers['x-end-to-end']).toBe('kept')
    expect(names.filter(n => n === 'x-dup')).toHaveLength(2) // repeated headers arrive as sent
    expect(echo.bodyBytes).toBe(2)
  })
})

describe('admin port', () => {
  it('/route/<id> names the owner', async () => {
    const res = await request(`${router.admin}/route/${GUILD}`)
    const body = await res.body.json() as Record<string, unknown>
    expect(body).toEqual({ guildId: GUILD, pod: md5Mod(GUILD, 3), url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), state: 'up', ejectedUntil: null, strategy: 'md5-mod', numPods: 3 })
  })

  it.each([['0123', 'invalid_guild_id'], ['abc', 'invalid_guild_id']])('/route/%s → 400 %s', async (id, code) => {
    const res = await request(`${router.admin}/route/${id}`)
    expect(res.statusCode).toBe(400)
    expect(await res.body.json()).toMatchObject({ error: code })
  })

  it('health, readiness and Prometheus metrics', async () => {
    expect((await request(`${router.admin}/healthz`)).statusCode).toBe(200)
    expect((await request(`${router.admin}/readyz`)).statusCode).toBe(200)
    await send('/x', { headers: { 'x-guild-id': GUILD } })
    const metrics = await (await request(`${router.admin}/metrics`)).body.text()
    expect(metrics).toMatch(new RegExp(`guild_router_requests_total\\{gateway="${md5Mod(GUILD, 3)}",status_class="2xx"\\} [1-9]`))
    expect(metrics).toMatch(/guild_router_requests_total\{gateway="none",status_class="4xx"\} [1-9]/)
    expect(metrics).toContain('guild_router_request_duration_seconds_bucket')
    expect(metrics).toContain('guild_router_upstream_errors_total')
  })

  it('unknown admin paths answer a JSON 404', async () => {
    const res = await request(`${router.admin}/nope`)
    expect(res.statusCode).toBe(404)
    expect(await res.body.json()).toMatchObject({ error: 'not_found' })
  })
})
