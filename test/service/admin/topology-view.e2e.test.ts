import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { topologyVersion } from '../../../service/gateway/topology'
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
    expect(status.pods.map(p => p.topology)).toEqual([0, 1, 2].map(() => ({ version: expected, count: 3, settled: true })))
    const page = await (await request(`${router.admin}/`)).body.text()
    expect(page).toContain(`<b id="topology-version">${expected}</b>`)
    expect(page).toContain(`<td class="topology">${expected} (3 pods)</td>`)
  })

  it('guild-router plan prints both sides\' versions', () => {
    let out = ''
    expect(runCli(['plan', '--from', '3', '--to', '4', '--strategy', 'jump'], {}, s => { out += s }, () => {})).toBe(0)
    expect(out).toContain(`topology ${topologyVersion({ strategy: 'jump', count: 3 })} → ${topologyVersion({ strategy: 'jump', count: 4 })}`)
  })
})
