import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { blackholePort, connectOutcome } from '../helpers/blackhole'
import { guildOwnedBy } from '../helpers/guilds'
import { removeScratchDir, scratchDir } from '../helpers/scratch-dir'
import { Cleanup, startGateways, startRouterProcess, type RouterProcess } from '../helpers/topology'

/**
 * A gateway whose node is gone: its SYNs are dropped, so a connect neither
 * completes nor fails, until a timeout. Refused ports and unknown names fail
 * at once and are tested elsewhere; this is the case where only the router's
 * own clocks help.
 */

const DEADLINE_MS = 1_000
// Far past the deadline, so only the deadline can end the first requests.
const CONNECT_TIMEOUT_MS = 5_000

const cleanup = new Cleanup()
let router: RouterProcess
let silentPort: number
let logs: string[]
let dir: string | undefined
const guild = [0, 1, 2].map(pod => guildOwnedBy(pod, 3))

beforeAll(async () => {
  silentPort = await blackholePort(cleanup)
  const scratch = scratchDir('blackhole-')
  dir = scratch
  logs = [0, 1, 2].map(n => join(scratch, `gateway-${n}.log`))
  const gateways = await startGateways(cleanup, 3, 'md5-mod', n => ({ REQUEST_LOG: logs[n] as string }))
  const urls = [gateways.urls[0], `http://127.0.0.1:${silentPort}`, gateways.urls[2]]
  router = await startRouterProcess(cleanup, {
    NUM_GATEWAY_PODS: '3',
    GATEWAY_URLS: urls.join(','),
    REQUEST_DEADLINE_MS: String(DEADLINE_MS),
    UPSTREAM_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    EJECT_CONSECUTIVE_FAILURES: '2',
    // Long enough that the pod stays ejected for the whole test.
    EJECT_BASE_MS: '60000',
    EJECT_MAX_MS: '60000'
  })
})
afterAll(async () => {
  await cleanup.run()
  if (dir !== undefined) removeScratchDir(dir)
})

interface Outcome { readonly status: number, readonly ms: number, readonly error?: string, readonly message?: string, readonly pod?: string }

async function send (pod: number, n: number, method: 'GET' | 'POST' = 'GET'): Promise<Outcome> {
  const t0 = performance.now()
  const res = await request(`${router.base}/guilds/${guild[pod] as string}/x`, {
    method, headers: { 'x-request-id': `pod${pod}-${method}-${n}` }, ...(method === 'POST' ? { body: `{"n":${n}}` } : {})
  })
  const text = await res.body.text()
  const ms = performance.now() - t0
  const pick = res.headers['x-gateway-pod']
  if (res.statusCode === 200) return { status: 200, ms, pod: typeof pick === 'string' ? pick : undefined }
  const body = JSON.parse(text) as { error: string, message: string }
  return { status: res.statusCode, ms, error: body.error, message: body.message, pod: typeof pick === 'string' ? pick : undefined }
}

describe('a gateway whose SYNs are dropped (its node gone)', () => {
  it('is silent: a connect to it neither completes nor is refused', async () => {
    expect(await connectOutcome(silentPort, 500)).toBe('silent')
  })

  it('costs its own guilds only: a coded 503 or 504 within the deadline, then fast 503s once ejected; nothing goes elsewhere', async () => {
    // The other pods' guilds are served throughout, beside the hung requests.
    const others = Promise.all(Array.from({ length: 20 }, (_, n) => send(n % 2 === 0 ? 0 : 2, n)))
    // Two in a row are cut by the deadline while still connecting; that is a
    // connection failure, and the second ejects the pod.
    const first = [await send(1, 0), await send(1, 1, 'POST')]
    const after = []
    for (let n = 2; n < 12; n++) after.push(await send(1, n, n % 2 === 0 ? 'GET' : 'POST'))
    console.log(`blackholed gateway-1: ${first.map(o => `${o.status} ${o.error ?? ''} in ${o.ms.toFixed(0)} ms`).join(', ')}; ` +
      `then ${after.length} in ${Math.max(...after.map(o => o.ms)).toFixed(0)} ms at most`)

    for (const o of first) {
      expect(o).toMatchObject({ status: 503, error: 'gateway_unavailable', pod: '1' })
      expect(o.message).toMatch(/no connection before the request deadline/)
      // Ended by the deadline, not the 5 s connect timeout; slack for a busy machine.
      expect(o.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50)
      expect(o.ms).toBeLessThan(DEADLINE_MS + 1_500)
    }
    for (const o of after) {
      expect(o).toMatchObject({ status: 503, error: 'gateway_unavailable', pod: '1' })
      expect(o.message).toMatch(/ejected/)
      // No connect is tried, so none waits for the deadline.
      expect(o.ms).toBeLessThan(DEADLINE_MS)
    }
    for (const o of await others) expect(o.status).toBe(200)

    // No request for gateway-1's guild reached another gateway, and every other one reached its owner once.
    // (gateway-1's own process is running but unrouted: its log stays absent.)
    const received = logs.flatMap((file, n) => (existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n').filter(Boolean).map(line => `${n} ${line}`))
    expect(received.filter(line => line.includes('pod1-'))).toEqual([])
    expect(received.filter(line => line.includes('pod0-')).every(line => line.startsWith('0 '))).toBe(true)
    expect(received.filter(line => line.includes('pod2-')).every(line => line.startsWith('2 '))).toBe(true)
    expect(received).toHaveLength(20)
  })
})
