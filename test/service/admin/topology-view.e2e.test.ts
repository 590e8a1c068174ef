import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { topologyVersion } from '../../../service/gateway/topology'
import { seededSnowflakes } from '../../../service/routing/snowflakes'
import { StatefulTier } from '../../helpers/stateful-tier'
import { Cleanup, startGateways, startRouterProcess } from '../../helpers/topology'
import { until } from '../../helpers/until'
import { runCli } from '../../../service/cli'

const cleanup = new Cleanup()
afterEach(async () => { await cleanup.run() })

describe('the topology each side holds', () => {
  it('/status names the router\'s topology version and, per pod, the one that gateway reports', async () => {
    const gateways = await startGateways(cleanup, 3, 'jump')
    const router = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '3', ROUTING_STRATEGY: 'jump', GATEWAY_URLS: gateways.urls.join(',') })
    const expected = topologyVersion({ strategy: 'jump', count: 3 })
    const status = await until('every gateway\'s topology on /status', async () => {
      const body = await (await request(`${router.admin}/status`)).body.json() as { topologyVersion: string, pods: Array<{ topology: { version: string, count: number, settled: boolean } | null }> }
      return body.pods.every(p => p.topology !== null) ? body : undefined
    }, 10_000)
    expect(status.topologyVersion).toBe(expected)
    const none = { guilds: 0, bytes: 0 }
    expect(status.pods.map(p => p.topology)).toEqual([0, 1, 2].map(() => ({ version: expected, count: 3, settled: true, guilds: 0, sending: none, receiving: none })))
    const page = await (await request(`${router.admin}/`)).body.text()
    expect(page).toContain(`<b id="topology-version">${expected}</b>`)
    expect(page).toContain(`<td class="topology">${expected} (3 pods)</td>`)
  })

  it('the status page shows, per pod, the guilds it holds and what it still has to send while a handoff waits', async () => {
    const tier = await StatefulTier.create(cleanup, { strategy: 'md5-mod', pods: 4 })
    for (const pod of tier.pods.slice(0, 3)) await tier.start(pod, 3)
    await tier.settledAt(tier.pods.slice(0, 3), 3)
    const guilds = [...seededSnowflakes(30, 5n)]
    const writer = await tier.router(3)
    for (const g of guilds) {
      const res = await request(`${writer.base}/guilds/${g}/entries`, { method: 'POST', body: 'x' })
      expect(res.statusCode).toBe(201)
      await res.body.dump()
    }
    // The topology says four pods, but gateway-3 has not started: guilds that move between the three
    // arrive, and those bound for gateway-3 wait, fenced, on their old owners.
    for (const pod of tier.pods.slice(0, 3)) tier.setTopology(pod, 4)
    const waiting = (n: number): string[] => guilds.filter(g => tier.owner(g, 3) === n && tier.owner(g, 4) === 3)
    const moving = [0, 1, 2].map(n => waiting(n).length)
    const held = [0, 1, 2].map(n => guilds.filter(g => tier.owner(g, 4) === n).length + moving[n]!)
    const router = await tier.router(4)
    const status = await until('the handoff on /status', async () => {
      const body = await (await request(`${router.admin}/status`)).body.json() as { pods: Array<{ topology: { guilds: number, sending: { guilds: number, bytes: number } } | null }> }
      return body.pods.slice(0, 3).every((p, n) => p.topology?.sending.guilds === moving[n] && p.topology?.guilds === held[n]) ? body : undefined
    }, 20_000)
    expect(moving.every(n => n > 0)).toBe(true)
    expect(status.pods.slice(0, 3).every(p => (p.topology?.sending.bytes ?? 0) > 0)).toBe(true)
    expect(status.pods[3]?.topology).toBeNull()
    const page = await (await request(`${router.admin}/`)).body.text()
    expect(page).toContain(`<td class="handoff">${held[0]!} guilds · sending ${moving[0]!} (`)
  })

  it('guild-router plan prints both sides\' versions', () => {
    let out = ''
    expect(runCli(['plan', '--from', '3', '--to', '4', '--strategy', 'jump'], {}, s => { out += s }, () => {})).toBe(0)
    expect(out).toContain(`topology ${topologyVersion({ strategy: 'jump', count: 3 })} → ${topologyVersion({ strategy: 'jump', count: 4 })}`)
  })
})
