/// <reference lib="dom" />
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { REFRESH_MS } from '../../service/admin/status-page'
import { gatewayMetrics } from '../../service/gateway/gateway-metrics'
import { md5Mod } from '../../service/routing/strategies'
import { guildOwnedBy } from '../helpers/guilds'
import { Cleanup, startGateways, startRouterProcess, type Gateways, type RouterProcess } from '../helpers/topology'
import { testScratchDir } from '../helpers/scratch-dir'

/**
 * The status page in a real headless browser: Chromium from Debian's
 * package, driven by playwright-core. `UPDATE_SCREENSHOTS=1` refreshes the
 * picture in docs/.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const cleanup = new Cleanup()
let browser: Browser
let router: RouterProcess
let gateways: Gateways

beforeAll(async () => {
  gateways = await startGateways(cleanup, 3, 'md5-mod')
  router = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '3', GATEWAY_URLS: gateways.urls.join(',') })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync']
  })
  cleanup.add(() => browser.close())
  // Some traffic, so the table has numbers in it.
  for (let i = 0; i < 60; i++) await (await request(`${router.base}/guilds/${guildOwnedBy(i % 3, 3, 'md5-mod', BigInt(i + 1))}`)).body.dump()
})
afterAll(() => cleanup.run())

describe('the status page', () => {
  it('loads without console errors, looks up a guild like /route does, previews a rescale, and shows a stopped gateway ejected', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } })
    const problems: string[] = []
    page.on('console', msg => { if (msg.type() === 'error') problems.push(msg.text()) })
    page.on('pageerror', err => problems.push(err.message))
    await page.goto(`${router.admin}/`)
    expect(await page.title()).toBe('guild-router status')
    expect(await page.locator('#strategy').textContent()).toBe('md5-mod')
    expect(await page.locator('#pods tr').count()).toBe(3)

    const guild = '81384788765712384'
    const route = await (await request(`${router.admin}/route/${guild}`)).body.json() as { pod: number, url: string }
    await page.fill('#guild', guild)
    await page.click('#lookup button')
    await page.waitForFunction(() => document.getElementById('lookup-result')?.dataset.pod !== undefined)
    expect(await page.locator('#lookup-result').getAttribute('data-pod')).toBe(String(route.pod))
    expect(await page.locator('#lookup-result').textContent()).toBe(`guild ${guild} → pod ${route.pod} (${route.url})`)
    expect(route.pod).toBe(md5Mod(guild, 3))

    await page.fill('#plan-from', '3')
    await page.fill('#plan-to', '4')
    await page.click('#plan button')
    await page.waitForFunction(() => (document.getElementById('plan-result')?.textContent ?? '') !== '')
    expect(await page.locator('#plan-result').textContent()).toMatch(/^\d+ of 20000 sample guilds move \(7\d\.\d%, least possible 25\.0%\)/)

    // Stop pod 2; traffic for its guilds makes this router eject it.
    await gateways.procs[2]?.stop('SIGKILL')
    const victim = guildOwnedBy(2, 3)
    for (let i = 0; i < 3; i++) await (await request(`${router.base}/guilds/${victim}`)).body.dump()
    await page.waitForFunction(
      () => (document.querySelector('#pods tr[data-pod="2"] td.state')?.textContent ?? '').startsWith('ejected until'),
      // An upper bound for a failure report only, far above the refresh period.
      undefined, { timeout: 15 * REFRESH_MS })
    expect(await page.locator('#pods tr[data-pod="0"] td.state').textContent()).toBe('up')

    const shot = process.env.UPDATE_SCREENSHOTS === '1'
      ? join(__dirname, '..', '..', 'docs', 'status-page.png')
      : join(testScratchDir('status-'), 'status-page.png')
    await page.screenshot({ path: shot, fullPage: true })
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG')
    expect(problems).toEqual([])
  })

  it('greys out the stale table and says so when the router stops answering, and shows the owner ejected in a lookup', async () => {
    const dead = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '3', GATEWAY_URLS: gateways.urls.join(',') })
    const page = await browser.newPage()
    const victim = guildOwnedBy(2, 3)
    // Pod 2 was stopped by the test above; this router ejects it on its own evidence.
    for (let i = 0; i < 3; i++) await (await request(`${dead.base}/guilds/${victim}`)).body.dump()
    await page.goto(`${dead.admin}/?guild=${victim}`)
    expect(await page.locator('#lookup-result').textContent()).toMatch(/→ pod 2 \(.*\): owner ejected until \d\d:\d\d:\d\d UTC/)
    expect(await page.locator('#live').getAttribute('class')).toBeNull()
    const updated = await page.locator('#updated').textContent()

    await dead.proc.stop('SIGKILL')
    await page.waitForFunction(() => document.getElementById('live')?.classList.contains('stale') === true, undefined, { timeout: 15 * REFRESH_MS })
    expect(await page.locator('#stale').isVisible()).toBe(true)
    expect(await page.locator('#stale').textContent()).toMatch(new RegExp(`^The router is not answering \\(.+\\): the table below is from ${updated} and may be out of date\\.$`))
    expect(await page.locator('#live').evaluate(el => getComputedStyle(el).opacity)).toBe('0.45')
    // The table is kept for reference, not emptied.
    expect(await page.locator('#pods tr').count()).toBe(3)
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      await page.screenshot({ path: join(__dirname, '..', '..', 'docs', 'status-page-stale.png'), fullPage: true })
    }
  })

  it('shows each pod\'s hot guilds and their share, as /status has them', async () => {
    const hotGuild = guildOwnedBy(1, 3, 'md5-mod', 4242n)
    // 400 requests against about 20 for any other guild of pod 1: sampled 1 in 8, it leads by far.
    for (let i = 0; i < 400; i++) await (await request(`${router.base}/guilds/${hotGuild}`)).body.dump()
    const status = await (await request(`${router.admin}/status`)).body.json() as { pods: Array<{ hotGuilds: { requests: number, sampleEvery: number, top: Array<{ guildId: string, requests: number, share: number }> } }> }
    const pod1 = status.pods[1]!.hotGuilds
    expect(pod1.sampleEvery).toBe(8)
    expect(pod1.requests).toBeGreaterThanOrEqual(400)
    expect(pod1.top[0]?.guildId).toBe(hotGuild)
    const { requests } = pod1.top[0]!
    expect(requests % 8).toBe(0)
    // A sampled estimate can pass the exact total; the share stops at 100%.
    const share = Math.min(1, requests / pod1.requests)
    expect(pod1.top[0]!.share).toBeCloseTo(share, 6)
    expect(pod1.top.length).toBeLessThanOrEqual(5)
    const page = await browser.newPage()
    await page.goto(`${router.admin}/`)
    const row = page.locator(`#hot tr[data-pod="1"][data-guild="${hotGuild}"]`)
    expect(await row.locator('td.requests').textContent()).toMatch(new RegExp(`^${requests}( \\(±\\d+\\))?$`))
    expect(await row.locator('td.share').textContent()).toBe(`${(100 * share).toFixed(1)}%`)
    // Other pods' hot guilds are theirs: none of pod 1's guilds is listed under pod 0.
    expect(await page.locator(`#hot tr[data-pod="0"][data-guild="${hotGuild}"]`).count()).toBe(0)
  })

  it('escapes a guild id from the query string instead of running it', async () => {
    const page = await browser.newPage()
    let dialogs = 0
    page.on('dialog', d => { dialogs++; void d.dismiss() })
    const payload = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    const res = await page.goto(`${router.admin}/?guild=${encodeURIComponent(payload)}`)
    expect(res?.headers()['content-security-policy']).toContain("script-src 'nonce-")
    expect(await page.locator('#lookup-result').textContent()).toContain(payload)
    expect(await page.locator('#guild').inputValue()).toBe(payload)
    expect(await page.locator('img').count()).toBe(0)
    expect(dialogs).toBe(0)
  })
})

describe('the Grafana dashboard', () => {
  it('is valid JSON and queries only metrics the router exports', async () => {
    const dashboard = JSON.parse(readFileSync(join(__dirname, '..', '..', 'infra', 'dashboards', 'guild-router.json'), 'utf8')) as {
      panels: Array<{ title: string, targets: Array<{ expr: string }> }>
    }
    const exported = await (await request(`${router.admin}/metrics`)).body.text()
    const names = new Set([...exported.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
      type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name as string]))
    const queried = dashboard.panels.flatMap(p => p.targets.flatMap(t => [...t.expr.matchAll(/\bguild_router_[a-z0-9_]+/g)].map(m => m[0])))
    expect(queried.length).toBeGreaterThan(8)
    for (const title of ['Requests per second, by gateway', 'Latency percentiles', 'Retries, by reason', 'Ejections, by gateway']) {
      expect(dashboard.panels.map(p => p.title)).toContain(title)
    }
    expect(queried.filter(name => !names.has(name))).toEqual([])
    expect(queried).toEqual(expect.arrayContaining([
      'guild_router_requests_total', 'guild_router_request_duration_seconds_bucket', 'guild_router_retries_total',
      'guild_router_ejections_total', 'guild_router_retry_budget_exhausted_total', 'guild_router_pod_state', 'guild_router_hot_guild_requests'
    ]))
    // The gateway panels query what the gateway library exports.
    const gateway = await gatewayMetrics(() => ({
      ordinal: 0, version: 'v', strategy: 'jump', count: 1, settled: true, ready: true, clean: true, horizon: 1, guilds: 0,
      handoff: { sending: { guilds: 0, bytes: 0, to: {} }, receiving: { guilds: 0, bytes: 0 }, sent: { guilds: 0, bytes: 0 }, received: { guilds: 0, bytes: 0 } }
    }), { defaultMetrics: false }).metrics()
    const gatewayNames = new Set([...gateway.matchAll(/^# TYPE (\S+) /gm)].map(([, name]) => name))
    const queriedGateway = dashboard.panels.flatMap(p => p.targets.flatMap(t => [...t.expr.matchAll(/\bguild_gateway_[a-z0-9_]+/g)].map(m => m[0])))
    expect(queriedGateway.length).toBeGreaterThanOrEqual(2)
    expect(queriedGateway.filter(name => !gatewayNames.has(name))).toEqual([])
  })
})
