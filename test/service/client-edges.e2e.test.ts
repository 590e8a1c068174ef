import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { md5Mod } from '../../service/routing/strategies'
import { guildOwnedBy } from '../helpers/guilds'
import { rawRequest } from '../helpers/raw-http'
import { Cleanup, startGateways, startRouterProcess, type RouterProcess } from '../helpers/topology'

/**
 * Edges where a real client and the router disagreed: each test here failed
 * against the router before its fix (the commit that added it says how).
 */

const cleanup = new Cleanup()
let router: RouterProcess
/** A router whose discarding after an early answer stops at 256 KiB. */
let stingy: RouterProcess
const GUILD = '81384788765712384'

beforeAll(async () => {
  const gateways = await startGateways(cleanup, 3, 'md5-mod')
  const env = { NUM_GATEWAY_PODS: '3', GATEWAY_URLS: gateways.urls.join(','), MAX_BODY_BYTES: '65536' }
  ;[router, stingy] = await Promise.all([
    startRouterProcess(cleanup, env),
    startRouterProcess(cleanup, { ...env, CLIENT_LINGER_BYTES: '262144' })
  ])
})
afterAll(() => cleanup.run())

interface SendAllThenRead { readonly sent: boolean, readonly error?: string, readonly status?: number, readonly body?: string }

/**
 * How Python's http.client and requests behave: write the whole request,
 * reading nothing, and only then read the answer. The socket is paused, so
 * the kernel's receive buffer is left alone until every byte is written.
 */
function sendAllThenRead (url: string, head: string, body: Buffer): Promise<SendAllThenRead> {
  const { hostname, port } = new URL(url)
  return new Promise(resolve => {
    let sent = false
    const socket = connect(Number(port), hostname)
    socket.pause()
    const chunks: Buffer[] = []
    socket.on('error', err => {
      resolve({ sent, error: (err as NodeJS.ErrnoException).code ?? err.message })
    })
    socket.on('data', c => chunks.push(c))
    socket.on('end', () => {
      const all = Buffer.concat(chunks).toString('utf8')
      const split = all.indexOf('\r\n\r\n')
      resolve({ sent, status: Number(all.split(' ')[1]), body: all.slice(split + 4) })
    })
    socket.write(head)
    // 64 KiB writes, like a client's sendall loop; each waits for the kernel to take the last.
    let at = 0
    const next = (): void => {
      if (at >= body.length) {
        sent = true
        socket.resume()
        return
      }
      const piece = body.subarray(at, at + 65_536)
      at += piece.length
      socket.write(piece, err => { if (err === undefined || err === null) next() })
    }
    next()
  })
}

describe('a body over MAX_BODY_BYTES, from a client that sends everything before it reads', () => {
  // 8 MiB is more than loopback's socket buffers take in, so the router
  // answers while most of the body is still to come.
  const body = Buffer.alloc(8 * 1_048_576, 0x61)

  it('gets its 413 with content-length, every time', async () => {
    for (let i = 0; i < 5; i++) {
      const got = await sendAllThenRead(router.base,
        `POST /x HTTP/1.1\r\nhost: a\r\nx-guild-id: ${GUILD}\r\ncontent-length: ${body.length}\r\n\r\n`, body)
      expect(got, `try ${i}`).toMatchObject({ sent: true, status: 413 })
      expect(JSON.parse(got.body ?? '')).toMatchObject({ error: 'payload_too_large' })
    }
  })

  it('gets its 413 for a JSON body read to find its guild', async () => {
    const json = Buffer.from(JSON.stringify({ guild_id: GUILD, pad: 'x'.repeat(body.length) }))
    const got = await sendAllThenRead(router.base,
      `POST /interactions HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: ${json.length}\r\n\r\n`, json)
    expect(got).toMatchObject({ sent: true, status: 413 })
  })

  it('gets its 413 for a chunked body that grows past the limit', async () => {
    const chunked = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])
    const got = await sendAllThenRead(router.base,
      `POST /x HTTP/1.1\r\nhost: a\r\nx-guild-id: ${GUILD}\r\ntransfer-encoding: chunked\r\n\r\n`, chunked)
    expect(got).toMatchObject({ sent: true, status: 413 })
  })

  it('is cut off once the router has discarded CLIENT_LINGER_BYTES: it never reads without bound', async () => {
    const got = await sendAllThenRead(stingy.base,
      `POST /x HTTP/1.1\r\nhost: a\r\nx-guild-id: ${GUILD}\r\ncontent-length: ${body.length}\r\n\r\n`, body)
    expect(got.sent).toBe(false)
    expect(got.error).toMatch(/^(EPIPE|ECONNRESET)$/)
  })

  it('a client that reads while it sends (undici) still gets 413', async () => {
    const res = await request(`${router.base}/x`, { method: 'POST', headers: { 'x-guild-id': GUILD }, body })
    expect(res.statusCode).toBe(413)
    expect(await res.body.json()).toMatchObject({ error: 'payload_too_large' })
  })
})

describe('a JSON body that names guild_id twice', () => {
  const other = guildOwnedBy((md5Mod(GUILD, 3) + 1) % 3, 3)

  it('with two different values is a conflict, whichever comes first', async () => {
    for (const [first, second] of [[GUILD, other], [other, GUILD]]) {
      const res = await request(`${router.base}/interactions`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"guild_id":"${first}","type":2,"guild_id":"${second}"}`
      })
      expect(res.statusCode).toBe(400)
      const err = await res.body.json() as { error: string, message: string }
      expect(err.error).toBe('conflicting_guild_id')
      expect(err.message).toContain(first as string)
      expect(err.message).toContain(second as string)
    }
  })

  it('with one value twice is that guild', async () => {
    const res = await request(`${router.base}/interactions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"guild_id":"${GUILD}","guild_id":"${GUILD}"}`
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['x-gateway-pod']).toBe(String(md5Mod(GUILD, 3)))
    await res.body.dump()
  })

  it('spelt once with escapes and once plainly is still two keys', async () => {
    const res = await request(`${router.base}/interactions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"guild\\u005fid":"${GUILD}","guild_id":"${other}"}`
    })
    expect(res.statusCode).toBe(400)
    expect((await res.body.json() as { error: string }).error).toBe('conflicting_guild_id')
  })

  it('inside a nested object does not count', async () => {
    const res = await request(`${router.base}/interactions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"guild_id":"${GUILD}","data":{"guild_id":"${other}"}}`
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['x-gateway-pod']).toBe(String(md5Mod(GUILD, 3)))
    await res.body.dump()
  })
})

describe('an absolute-form request target', () => {
  it('forwards x-forwarded-host from the target\'s authority, not from Host', async () => {
    const got = await rawRequest(router.base,
      `GET http://bot.example:8443/x HTTP/1.1\r\nhost: other.example\r\nx-guild-id: ${GUILD}\r\nconnection: close\r\n\r\n`)
    expect(got.status).toBe(200)
    const echo = JSON.parse(got.body) as { url: string, headers: Record<string, string> }
    expect(echo.url).toBe('/x')
    expect(echo.headers['x-forwarded-host']).toBe('bot.example:8443')
  })

  it('keeps Host for an origin-form target', async () => {
    const got = await rawRequest(router.base,
      `GET /x HTTP/1.1\r\nhost: other.example\r\nx-guild-id: ${GUILD}\r\nconnection: close\r\n\r\n`)
    expect((JSON.parse(got.body) as { headers: Record<string, string> }).headers['x-forwarded-host']).toBe('other.example')
  })
})
