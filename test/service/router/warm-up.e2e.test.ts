import { afterAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { parseConfig } from '../../../service/config'
import { warmUp } from '../../../service/router/warm-up'
import { Cleanup, scriptedGateway, startRouterProcess } from '../../helpers/topology'
import { until } from '../../helpers/until'

const cleanup = new Cleanup()
afterAll(() => cleanup.run())

describe('the start-up warm-up', () => {
  it('sends every request through the proxy to its own stand-in, and leaves nothing open', async () => {
    const tcp = (): number => process.getActiveResourcesInfo().filter(r => r === 'TCPServerWrap' || r === 'TCPSocketWrap').length
    const before = tcp()
    // Gateways that do not exist: the warm-up must never need them.
    const config = parseConfig({ NUM_GATEWAY_PODS: '3', GATEWAY_URL_TEMPLATE: 'http://gateway-{ordinal}.invalid:3000' })
    const result = await warmUp(config, 600)
    expect(result).toMatchObject({ requests: 600, failed: 0 })
    // Closed handles leave libuv's list a moment after their close callbacks.
    await until('the warm-up\'s servers and sockets to close', async () => (tcp() === before ? true : undefined), 5_000)
  })

  it('runs before the router listens: no gateway sees it, no metric counts it, and the router then routes as usual', async () => {
    let received = 0
    const gateway = await scriptedGateway(cleanup, (_req, res) => { received++; res.end('{}') })
    const router = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '1', GATEWAY_URLS: gateway.url, WARM_UP_REQUESTS: '2000', LOG_LEVEL: 'info' })
    const logged = router.proc.lines.map(l => JSON.parse(l) as { msg?: string, requests?: number, failed?: number })
    expect(logged.find(l => l.msg === 'warmed up')).toMatchObject({ requests: 2000, failed: 0 })
    expect(logged.findIndex(l => l.msg === 'warmed up')).toBeLessThan(logged.findIndex(l => l.msg === 'listening'))
    expect(received).toBe(0)
    const metrics = await (await request(`${router.admin}/metrics`)).body.text()
    expect(metrics).not.toMatch(/^guild_router_requests_total\{/m)

    const res = await request(`${router.base}/interactions`, { headers: { 'x-guild-id': '81384788765712384' } })
    await res.body.dump()
    expect(res.statusCode).toBe(200)
    expect(received).toBe(1)
  })
})
