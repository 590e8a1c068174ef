import { execFileSync, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { OwnershipStatus } from '../../../service/gateway/gateway-ownership'
import { gatewayMetrics } from '../../../service/gateway/gateway-metrics'
import { createMetrics } from '../../../service/telemetry/metrics'

const ROOT = join(__dirname, '..', '..', '..')
let promtool: string

beforeAll(() => {
  // Cold, this waits for the build .ci/run starts in the background (scripts/prometheus/build.sh).
  const out = execFileSync('bash', [join(ROOT, 'scripts', 'prometheus', 'build.sh'), 'promtool'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  promtool = join(out.trim(), 'promtool')
}, 40 * 60_000)

/** What Prometheus' own linter says of an exposition: nothing, when it is clean. */
function lint (text: string): { status: number | null, out: string } {
  const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' })
  return { status: r.status, out: r.stdout + r.stderr }
}

const status = (over: Partial<OwnershipStatus> = {}): OwnershipStatus => ({
  ordinal: 2,
  version: 'jump-4-abc',
  strategy: 'jump',
  count: 4,
  settled: false,
  ready: true,
  clean: false,
  horizon: 4,
  guilds: 17,
  handoff: {
    sending: { guilds: 3, bytes: 3072, to: { 3: 3 } },
    receiving: { guilds: 5, bytes: 0 },
    sent: { guilds: 9, bytes: 9216 },
    received: { guilds: 1, bytes: 512 },
    stuck: 'pod 3: connect ECONNREFUSED'
  },
  ...over
})

describe('the /metrics expositions pass promtool check metrics', () => {
  it('the router\'s, with every metric populated, default Node.js metrics included', async () => {
    const m = createMetrics(3, { topology: { strategy: 'jump', version: 'jump-3-x' } })
    for (let i = 0; i < 500; i++) m.observe(i % 3, i % 50 === 0 ? 503 : 200, 0.002, `${1000 + (i % 37)}`)
    m.observe(-1, 400, 0)
    m.upstreamError(1, 'gateway_unavailable')
    m.retry(1, 'never-sent')
    m.failover(1)
    m.budgetExhausted()
    m.ownershipRefusal(0, 'redirect')
    m.ejected(1)
    m.podState(1, 'ejected')
    const text = await m.registry.metrics()
    expect(lint(text)).toEqual({ status: 0, out: '' })
    expect(text).toMatch(/^guild_router_topology_info\{strategy="jump",version="jump-3-x"\} 1$/m)
    expect(text).toMatch(/^guild_router_gateways 3$/m)
    // No metric label is called pod: discovery's target label would rename it.
    expect(text.split('\n').filter(l => /^guild_router_\w+\{[^}]*\bpod="/.test(l))).toEqual([])
  })

  it('the gateway\'s, with values read from the ownership status at scrape time', async () => {
    let current = status()
    const registry = gatewayMetrics(() => current)
    const text = await registry.metrics()
    expect(lint(text)).toEqual({ status: 0, out: '' })
    for (const line of [
      'guild_gateway_topology_info{ordinal="2",strategy="jump",version="jump-4-abc"} 1',
      'guild_gateway_topology_gateways 4',
      'guild_gateway_settled 0',
      'guild_gateway_ready 1',
      'guild_gateway_guilds 17',
      'guild_gateway_handoff_stuck 1',
      'guild_gateway_handoff_pending_guilds{direction="out"} 3',
      'guild_gateway_handoff_pending_guilds{direction="in"} 5',
      'guild_gateway_handoff_pending_bytes{direction="out"} 3072',
      'guild_gateway_handoff_guilds_total{direction="out"} 9',
      'guild_gateway_handoff_guilds_total{direction="in"} 1',
      'guild_gateway_handoff_bytes_total{direction="out"} 9216'
    ]) expect(text.split('\n'), line).toContain(line)
    // A new topology replaces the info series rather than adding one.
    current = status({ version: 'jump-5-def', count: 5, settled: true, handoff: { ...status().handoff, stuck: undefined } })
    const after = await registry.metrics()
    expect(after.split('\n').filter(l => l.startsWith('guild_gateway_topology_info{'))).toEqual(['guild_gateway_topology_info{ordinal="2",strategy="jump",version="jump-5-def"} 1'])
    expect(after.split('\n')).toContain('guild_gateway_settled 1')
    expect(after.split('\n')).toContain('guild_gateway_handoff_stuck 0')
  })

  it('hot guilds: a bounded number of series however many guilds are seen', async () => {
    const m = createMetrics(3, { defaultMetrics: false, hotGuildSeries: 5 })
    for (let i = 0; i < 30_000; i++) m.observe(i % 3, 200, 0.001, String(10_000 + (i % 4_000)))
    for (let i = 0; i < 3_000; i++) m.observe(1, 200, 0.001, '777')
    const lines = (await m.registry.metrics()).split('\n').filter(l => l.startsWith('guild_router_hot_guild_requests{'))
    expect(lines.length).toBeLessThanOrEqual(15)
    expect(lines).toContain('guild_router_hot_guild_requests{gateway="1",guild="777"} ' + lines.find(l => l.includes('guild="777"'))?.split(' ')[1])
    // Sampled 1 in 8: 3,000 true, one standard error √(8 · 3,000) ≈ 155.
    expect(Math.abs(Number(lines.find(l => l.includes('guild="777"'))?.split(' ')[1]) - 3_000)).toBeLessThan(5 * 155)
  })
})
