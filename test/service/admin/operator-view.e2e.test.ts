import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import type { RouterStatus } from '../../../service/admin/router-status'
import { guildOwnedBy } from '../../helpers/guilds'
import { Cleanup, closedPortUrl, startGateways, startRouterProcess, type RouterProcess } from '../../helpers/topology'

/**
 * The admin port as an operator reads it — /status, the page, /metrics,
 * /route and /plan — against real router and gateway processes.
 */
const cleanup = new Cleanup()
afterEach(() => cleanup.run())

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

async function json<T> (url: string): Promise<{ status: number, body: T }> {
  const res = await request(url)
  return { status: res.statusCode, body: await res.body.json() as T }
}

async function text (url: string): Promise<string> {
  return await (await request(url)).body.text()
}

/** Sends requests for a guild of pod 0 until this router has ejected it: bounded by count, not time. */
async function ejectPod0 (router: RouterProcess): Promise<RouterStatus['pods'][number]> {
  for (let i = 0; i < 10; i++) {
    await (await request(`${router.base}/guilds/${guildOwnedBy(0, 1)}`)).body.dump()
    const { body } = await json<RouterStatus>(`${router.admin}/status`)
    if (body.pods[0]?.state === 'ejected') return body.pods[0]
  }
  throw new Error('pod 0 was not ejected after 10 requests')
}

describe('an ejection whose time has passed (issue 13)', () => {
  it('shows as half-open in /status, the page and guild_router_pod_state, with no request to the pod since', async () => {
    const router = await startRouterProcess(cleanup, {
      NUM_GATEWAY_PODS: '1', GATEWAY_URLS: await closedPortUrl(), EJECT_BASE_MS: '1000', EJECT_MAX_MS: '1000'
    })
    const ejected = await ejectPod0(router)
    const until = Date.parse(ejected.ejectedUntil as string)
    expect(await text(`${router.admin}/metrics`)).toMatch(/guild_router_pod_state\{gateway="0",state="ejected"\} 1/)

    // The router notices the end of the ejection by itself (its log says so),
    // before anyone asks. Bounded by a generous wait, asserted on the outcome.
    await sleep(Math.max(0, until - Date.now()))
    for (let i = 0; i < 100 && !router.proc.lines.some(l => l.includes('is half-open: ejection expired')); i++) await sleep(100)
    expect(router.proc.lines.filter(l => l.includes('is half-open: ejection expired'))).toHaveLength(1)

    const metrics = await text(`${router.admin}/metrics`)
    expect(metrics).toMatch(/guild_router_pod_state\{gateway="0",state="half-open"\} 1/)
    expect(metrics).toMatch(/guild_router_pod_state\{gateway="0",state="ejected"\} 0/)
    const { body } = await json<RouterStatus>(`${router.admin}/status`)
    expect(body.pods[0]).toMatchObject({ state: 'half-open', ejectedUntil: ejected.ejectedUntil, ejections: 1 })
    const page = await text(`${router.admin}/`)
    expect(page).toContain('<tr data-pod="0" class="half-open">')
  })
})

describe('the guild lookup', () => {
  it('says whether the owner is ejected, on /route and on the page', async () => {
    const router = await startRouterProcess(cleanup, {
      NUM_GATEWAY_PODS: '1', GATEWAY_URLS: await closedPortUrl(), EJECT_BASE_MS: '60000', EJECT_MAX_MS: '60000'
    })
    const guild = guildOwnedBy(0, 1)
    const before = await json<{ pod: number, state: string }>(`${router.admin}/route/${guild}`)
    expect(before.body).toMatchObject({ pod: 0, state: 'up' })

    const ejected = await ejectPod0(router)
    const after = await json<{ pod: number, state: string, ejectedUntil: string }>(`${router.admin}/route/${guild}`)
    expect(after.body).toMatchObject({ pod: 0, state: 'ejected', ejectedUntil: ejected.ejectedUntil })
    const page = await text(`${router.admin}/?guild=${guild}`)
    expect(page).toMatch(new RegExp(`guild ${guild} → pod 0 \\([^)]*\\): owner ejected until \\d\\d:\\d\\d:\\d\\d UTC`))
  })
})

describe('/plan', () => {
  it('honours ?strategy= and refuses an unknown one with 400 invalid_request', async () => {
    const gateways = await startGateways(cleanup, 3)
    const router = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '3', GATEWAY_URLS: gateways.urls.join(',') })

    const own = await json<{ strategy: string }>(`${router.admin}/plan?from=3&to=4`)
    expect(own.body.strategy).toBe('md5-mod')
    const other = await json<{ strategy: string, moved: number, total: number, flows: Array<{ to: number }> }>(`${router.admin}/plan?from=3&to=4&strategy=jump`)
    expect(other.status).toBe(200)
    expect(other.body.strategy).toBe('jump')
    // jump only ever moves guilds onto the new pod.
    expect(other.body.flows.map(f => f.to)).toEqual([3, 3, 3])

    const bad = await json<{ error: string, message: string }>(`${router.admin}/plan?from=3&to=4&strategy=ring`)
    expect(bad.status).toBe(400)
    expect(bad.body.error).toBe('invalid_request')
    expect(bad.body.message).toBe('query strategy must be one of md5-mod, jump, discord-shard (got "ring")')
  })
})
