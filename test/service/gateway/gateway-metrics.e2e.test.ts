import { randomUUID } from 'node:crypto'
import { request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { seededSnowflakes } from '../../../service/routing/snowflakes'
import { StatefulTier } from '../../helpers/stateful-tier'
import { Cleanup } from '../../helpers/topology'

const cleanup = new Cleanup()
afterAll(async () => { await cleanup.run() })

/** One exposition as name{labels} → value. */
async function scrape (url: string): Promise<Map<string, number>> {
  const res = await request(url)
  expect(res.statusCode).toBe(200)
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
  const values = new Map<string, number>()
  for (const line of (await res.body.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    values.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return values
}

describe('the reference gateway\'s /metrics, real processes through a rescale', () => {
  it('reports its topology, settling and the handoff both ways, and answers anything else with a coded 404', async () => {
    const tier = await StatefulTier.create(cleanup, { strategy: 'jump', pods: 2 })
    const [zero, one] = tier.pods as [typeof tier.pods[0], typeof tier.pods[0]]
    await tier.start(zero, 1)
    await tier.settledAt([zero], 1)
    const guilds = [...seededSnowflakes(40, 7n)]
    for (const guild of guilds) {
      const res = await request(`${zero.url}/guilds/${guild}/entries`, { method: 'POST', headers: { 'x-guild-id': guild, 'x-request-id': randomUUID(), 'content-type': 'text/plain' }, body: 'x' })
      expect(res.statusCode).toBe(201)
      await res.body.dump()
    }
    const before = await scrape(zero.metricsUrl!)
    expect(before.get('guild_gateway_guilds')).toBe(40)
    expect(before.get('guild_gateway_settled')).toBe(1)
    expect(before.get('guild_gateway_topology_gateways')).toBe(1)
    expect(before.get('guild_gateway_handoff_guilds_total{direction="out"}')).toBe(0)

    // 1 → 2: the guilds jump hashing gives to pod 1 move there with their data.
    const moved = guilds.filter(g => tier.owner(g, 2) === 1)
    expect(moved.length).toBeGreaterThan(5)
    await tier.start(one, 2)
    tier.setTopology(zero, 2)
    await tier.settledAt([zero, one], 2)
    const [sender, receiver] = [await scrape(zero.metricsUrl!), await scrape(one.metricsUrl!)]
    const version = (await tier.status(one)).version
    expect({
      out: sender.get('guild_gateway_handoff_guilds_total{direction="out"}'),
      in: receiver.get('guild_gateway_handoff_guilds_total{direction="in"}'),
      senderGuilds: sender.get('guild_gateway_guilds'),
      receiverGuilds: receiver.get('guild_gateway_guilds'),
      pending: [sender, receiver].map(m => m.get('guild_gateway_handoff_pending_guilds{direction="out"}')),
      settled: [sender, receiver].map(m => m.get('guild_gateway_settled')),
      stuck: [sender, receiver].map(m => m.get('guild_gateway_handoff_stuck'))
    }).toEqual({ out: moved.length, in: moved.length, senderGuilds: 40 - moved.length, receiverGuilds: moved.length, pending: [0, 0], settled: [1, 1], stuck: [0, 0] })
    expect(receiver.get(`guild_gateway_topology_info{ordinal="1",strategy="jump",version="${version}"}`)).toBe(1)
    expect(sender.get(`guild_gateway_topology_info{ordinal="0",strategy="jump",version="${version}"}`)).toBe(1)
    expect(sender.get('guild_gateway_handoff_bytes_total{direction="out"}')).toBe(receiver.get('guild_gateway_handoff_bytes_total{direction="in"}'))
    expect(sender.get('guild_gateway_handoff_bytes_total{direction="out"}')).toBeGreaterThan(0)

    const other = await request(zero.metricsUrl!.replace(/\/metrics$/, '/handoff/guilds/1'), { method: 'PUT', body: 'x' })
    expect(other.statusCode).toBe(404)
    expect(await other.body.json()).toEqual({ error: 'not_found', message: 'the metrics port serves GET /metrics only, not PUT /handoff/guilds/1' })
  })
})
