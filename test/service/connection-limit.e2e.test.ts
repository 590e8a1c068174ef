import { existsSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client } from 'undici'
import { guildOwnedBy } from '../helpers/guilds'
import { removeScratchDir, scratchDir } from '../helpers/scratch-dir'
import { Cleanup, startGateways, startRouterProcess, type RouterProcess } from '../helpers/topology'

/**
 * CLIENT_MAX_REQUESTS_PER_CONNECTION: the answer to a connection's last
 * request closes it, so a kept-alive client reconnects and a Service can
 * spread it over new routers; a request pipelined behind the last one never
 * reaches a gateway. Real router and gateway processes, raw sockets.
 */
const MAX = 3
const cleanup = new Cleanup()
let capped: RouterProcess
let unlimited: RouterProcess
let logs: string[]
let dir: string | undefined
const guild = guildOwnedBy(0, 3)

beforeAll(async () => {
  const scratch = scratchDir('connection-limit-')
  dir = scratch
  logs = [0, 1, 2].map(n => join(scratch, `gateway-${n}.log`))
  const gateways = await startGateways(cleanup, 3, 'md5-mod', n => ({ REQUEST_LOG: logs[n] as string }))
  const env = { NUM_GATEWAY_PODS: '3', GATEWAY_URLS: gateways.urls.join(',') }
  capped = await startRouterProcess(cleanup, { ...env, CLIENT_MAX_REQUESTS_PER_CONNECTION: String(MAX) })
  unlimited = await startRouterProcess(cleanup, { ...env, CLIENT_MAX_REQUESTS_PER_CONNECTION: '0' })
})
afterAll(async () => {
  await cleanup.run()
  if (dir !== undefined) removeScratchDir(dir)
})

/** Request ids the gateways logged. */
function delivered (): string[] {
  return logs.flatMap(f => existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n') : []).map(line => line.split(' ')[1] as string)
}

/**
 * Writes all the requests at once (pipelined) and reads until the router
 * closes the connection: at the limit, or after its keep-alive timeout.
 */
async function pipelined (base: string, ids: string[]): Promise<string[]> {
  const { hostname, port } = new URL(base)
  const text = ids.map(id => `GET /guilds/${guild}/x HTTP/1.1\r\nHost: bot.example\r\nX-Request-Id: ${id}\r\n\r\n`).join('')
  const all = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text))
    const chunks: Buffer[] = []
    socket.on('data', c => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => { resolve(Buffer.concat(chunks).toString('latin1')) })
  })
  // Each answer's head, in order.
  return all.split(/(?=HTTP\/1\.1 \d{3} )/).filter(part => part.startsWith('HTTP/1.1 ')).map(part => part.slice(0, part.indexOf('\r\n\r\n')))
}

describe('CLIENT_MAX_REQUESTS_PER_CONNECTION', () => {
  it(`answers ${MAX} requests of a pipelined 5, the last with Connection: close, and sends the other 2 to no gateway`, async () => {
    const ids = [1, 2, 3, 4, 5].map(i => `limit-${process.pid}-${i}`)
    const heads = await pipelined(capped.base, ids)
    expect(heads.map(h => h.split('\r\n')[0])).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'])
    expect(heads.map(h => /^connection: close$/im.test(h))).toEqual([false, false, true])
    const got = delivered()
    expect(ids.map(id => got.includes(id))).toEqual([true, true, true, false, false])
  })

  it('with 0, all 5 are answered on the one connection and delivered', async () => {
    const ids = [1, 2, 3, 4, 5].map(i => `unlimited-${process.pid}-${i}`)
    const heads = await pipelined(unlimited.base, ids)
    expect(heads.map(h => h.split('\r\n')[0])).toEqual(Array(5).fill('HTTP/1.1 200 OK'))
    expect(heads.some(h => /^connection: close$/im.test(h))).toBe(false)
    const got = delivered()
    expect(ids.every(id => got.includes(id))).toBe(true)
  })

  it('a kept-alive client sees only answers: 7 requests in a row are all 200, over 3 connections', async () => {
    const client = new Client(capped.base)
    let connections = 0
    client.on('connect', () => { connections++ })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 7; i++) {
        const res = await client.request({ path: `/guilds/${guild}/x`, method: 'GET' })
        await res.body.dump()
        statuses.push(res.statusCode)
      }
      expect(statuses).toEqual(Array(7).fill(200))
      expect(connections).toBe(Math.ceil(7 / MAX))
    } finally {
      await client.close()
    }
  })
})
