import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { Pool } from 'undici'
import { STRATEGY_NAMES, strategy } from '../../service/routing/strategies'
import { Cleanup, startGateways, startRouterProcess } from '../helpers/topology'

// Bounded by count; a test timeout of its own, so a busy machine only makes it slower.
const IDS = 5_000
const CONCURRENCY = 32
const cleanup = new Cleanup()
afterAll(() => cleanup.run())

function randomSnowflake (): string {
  // Uniform over the whole 64-bit range, from the OS's randomness: independent of the code under test.
  const v = randomBytes(8).readBigUInt64BE(0)
  return v.toString()
}

async function inBatches<T> (items: T[], run: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) await run(items[next++] as T)
  }))
}

describe.each(STRATEGY_NAMES)('%s over 5 pods', name => {
  it(`/route and the proxied x-gateway-pod agree with the pure function for ${IDS} random ids`, async () => {
    const gateways = await startGateways(cleanup, 5, name)
    const router = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '5', GATEWAY_URLS: gateways.urls.join(','), ROUTING_STRATEGY: name })
    const proxy = new Pool(router.base, { connections: CONCURRENCY })
    const admin = new Pool(router.admin, { connections: CONCURRENCY })
    cleanup.add(() => Promise.all([proxy.close(), admin.close()]))
    const pick = strategy(name).pick
    const ids = Array.from({ length: IDS }, randomSnowflake)
    const mismatches: string[] = []
    const perPod = new Array<number>(5).fill(0)

    await inBatches(ids, async id => {
      const expected = pick(id, 5)
      const routed = await admin.request({ path: `/route/${id}`, method: 'GET' })
      const route = await routed.body.json() as { pod: number }
      const proxied = await proxy.request({ path: '/interactions', method: 'POST', headers: { 'x-guild-id': id }, body: '{}' })
      const echo = await proxied.body.json() as { ordinal: number }
      const header = Number(proxied.headers['x-gateway-pod'])
      // The gateway checks ownership itself and answers 421 if we got it wrong.
      if (proxied.statusCode !== 200 || route.pod !== expected || header !== expected || echo.ordinal !== expected) {
        mismatches.push(`${id}: expected ${expected}, /route ${route.pod}, header ${header}, status ${proxied.statusCode}`)
      }
      perPod[expected]! += 1
    })
    expect(mismatches).toEqual([])
    expect(perPod.reduce((a, b) => a + b)).toBe(IDS)
    expect(Math.min(...perPod)).toBeGreaterThan(0)
  }, 240_000)
})
