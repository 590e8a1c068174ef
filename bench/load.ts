import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { startNode, type NodeProcess } from '../dev/processes'
import { seededSnowflakes } from '../service/routing/snowflakes'
import { oracleOwner } from './owner-oracle'

/**
 * `npm run load`: several router processes sharing the traffic, the way a
 * Kubernetes Service spreads it, in front of reference gateways that refuse
 * guilds they do not own. Every answer is checked against an owner computed
 * independently of the router; any misroute fails the run.
 *   npm run load -- --routers 3 --gateways 3 --duration 10 --requests 200000 --concurrency 48 [--strategy jump] [--chaos]
 *     [--guilds 5000 --zipf 1.1] [--screenshot docs/status-page.png]
 * By default every request names a fresh random guild. With --guilds, requests
 * name one of that many guilds, ranked by Zipf's law with exponent --zipf (a
 * few guilds busy, most quiet, as on a real bot), so the hot-guild view has
 * something to show. --screenshot saves the first router's status page, taken
 * in Chromium while the routers still hold the run's last minute.
 */
const { values: flags } = parseArgs({
  options: {
    routers: { type: 'string', default: '3' },
    gateways: { type: 'string', default: '3' },
    strategy: { type: 'string', default: 'md5-mod' },
    duration: { type: 'string', default: '10' },
    requests: { type: 'string', default: '200000' },
    concurrency: { type: 'string', default: '48' },
    chaos: { type: 'boolean', default: false },
    guilds: { type: 'string', default: '0' },
    zipf: { type: 'string', default: '1.1' },
    screenshot: { type: 'string' }
  }
})
const K = Number(flags.routers)
const N = Number(flags.gateways)
const STRATEGY = flags.strategy
const DURATION_MS = Number(flags.duration) * 1000
const MAX_REQUESTS = Number(flags.requests)
const CONCURRENCY = Number(flags.concurrency)
if (![K, N, DURATION_MS, MAX_REQUESTS, CONCURRENCY].every(n => Number.isInteger(n) && n > 0)) {
  throw new Error('--routers, --gateways, --duration, --requests and --concurrency must be positive integers')
}
if (flags.chaos && N < 2) throw new Error('--chaos needs at least 2 gateways')
const GUILDS = Number(flags.guilds)
const ZIPF = Number(flags.zipf)
if (!Number.isInteger(GUILDS) || GUILDS < 0 || !(ZIPF > 0)) throw new Error('--guilds must be an integer ≥ 0 and --zipf a positive number')

/** A guild for each request: fresh and random, or drawn from a fixed Zipf-ranked set. */
function guildPicker (): () => string {
  if (GUILDS === 0) return snowflake
  const ids = [...seededSnowflakes(GUILDS, 2026n)]
  const cumulative = new Float64Array(GUILDS)
  let sum = 0
  for (let rank = 0; rank < GUILDS; rank++) cumulative[rank] = (sum += 1 / (rank + 1) ** ZIPF)
  return () => {
    const x = Math.random() * sum
    let lo = 0
    let hi = GUILDS - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((cumulative[mid] as number) < x) lo = mid + 1
      else hi = mid
    }
    return ids[lo] as string
  }
}

type Phase = 'before' | 'during' | 'after'
interface Tally { ok: number, misrouted: number, errors: Map<string, number> }
const tally = (): Tally => ({ ok: 0, misrouted: 0, errors: new Map() })

function snowflake (): string {
  // (ms since 2015 << 22) | 22 random bits: realistic guild ids from the OS's randomness.
  const ts = BigInt(Math.floor(Math.random() * 2 ** 39))
  return ((ts << 22n) | BigInt(randomBytes(3).readUIntBE(0, 3) & 0x3FFFFF)).toString()
}

async function main (): Promise<void> {
  const procs: NodeProcess[] = []
  const stop = async (): Promise<void> => { await Promise.all(procs.map(p => p.stop('SIGTERM'))) }
  process.once('SIGINT', () => { void stop().then(() => process.exit(130)) })

  const gatewayEnv = (n: number, port = '0'): Record<string, string> => ({
    ORDINAL: String(n), PORT: port, NUM_GATEWAY_PODS: String(N), ROUTING_STRATEGY: STRATEGY
  })
  const gateways = Array.from({ length: N }, (_, n) => startNode('gateway/reference-gateway-main.js', gatewayEnv(n)))
  procs.push(...gateways)
  const gatewayPorts = (await Promise.all(gateways.map(g => g.listening))).map(l => l.port)
  const urls = gatewayPorts.map(p => `http://127.0.0.1:${p}`).join(',')
  const routers = Array.from({ length: K }, () => startNode('main.js', {
    NUM_GATEWAY_PODS: String(N), GATEWAY_URLS: urls, ROUTING_STRATEGY: STRATEGY, HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: '0',
    DRAIN_DELAY_MS: '0', LOG_LEVEL: 'error', HEALTH_CHECK_PATH: '/healthz', HEALTH_CHECK_INTERVAL_MS: '200'
  }))
  procs.push(...routers)
  const routerListening = await Promise.all(routers.map(r => r.listening))
  const routerPorts = routerListening.map(l => l.port)
  // One pool per router; each request picks a router at random, as kube-proxy picks an endpoint.
  const pools = routerPorts.map(p => new Pool(`http://127.0.0.1:${p}`, { connections: Math.ceil(CONCURRENCY / K) }))

  process.stdout.write(`load: ${K} routers × ${N} gateways (${STRATEGY}), ${CONCURRENCY} concurrent, ` +
    `at most ${DURATION_MS / 1000} s or ${MAX_REQUESTS} requests${flags.chaos ? ', chaos: gateway-1 killed at 1/3, restarted at 2/3' : ''}\n`)

  const tallies: Record<Phase, Tally> = { before: tally(), during: tally(), after: tally() }
  let phase: Phase = 'before'
  const perPod = new Array<number>(N).fill(0)
  const latencies = new Float64Array(MAX_REQUESTS)
  let sent = 0
  let done = 0
  const start = performance.now()

  if (flags.chaos) {
    setTimeout(() => { phase = 'during'; void gateways[1]?.stop('SIGKILL') }, DURATION_MS / 3)
    setTimeout(() => {
      const again = startNode('gateway/reference-gateway-main.js', gatewayEnv(1, String(gatewayPorts[1])))
      procs.push(again)
      void again.listening.then(() => { phase = 'after' })
    }, (2 * DURATION_MS) / 3)
  }
  const progress = setInterval(() => {
    const secs = (performance.now() - start) / 1000
    const all = Object.values(tallies)
    const errors = all.reduce((n, t) => n + [...t.errors.values()].reduce((a, b) => a + b, 0), 0)
    process.stdout.write(`[${secs.toFixed(0)}s] ${done} requests, ${(done / secs).toFixed(0)} req/s, ` +
      `misrouted ${all.reduce((n, t) => n + t.misrouted, 0)}, errors ${errors}${flags.chaos ? `, phase ${phase}` : ''}\n`)
  }, 1000)

  const pickGuild = guildPicker()
  async function worker (): Promise<void> {
    while (sent < MAX_REQUESTS && performance.now() - start < DURATION_MS) {
      const i = sent++
      const guildId = pickGuild()
      const owner = oracleOwner(STRATEGY, guildId, N)
      const kind = i % 3
      const t0 = performance.now()
      const t = tallies[phase]
      try {
        const res = await (pools[Math.floor(Math.random() * K)] as Pool).request(kind === 0
          ? { method: 'GET', path: `/api/v10/guilds/${guildId}/members?limit=10` }
          : kind === 1
            ? { method: 'POST', path: '/interactions', headers: { 'x-guild-id': guildId, 'content-type': 'application/json' }, body: JSON.stringify({ type: 2, n: i, data: { name: 'ping' } }) }
            : { method: 'POST', path: '/interactions', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 2, guild_id: guildId, data: { name: 'roll', options: [{ value: i }] } }) })
        const body = await res.body.json() as { ordinal?: number, error?: string }
        latencies[i] = performance.now() - t0
        if (res.statusCode === 200) {
          if (body.ordinal === owner && res.headers['x-gateway-pod'] === String(owner)) { t.ok++; perPod[owner]! += 1 } else t.misrouted++
        } else if (res.statusCode === 421) {
          t.misrouted++ // the gateway itself says it does not own this guild
        } else {
          const code = `${res.statusCode} ${body.error ?? '?'}`
          t.errors.set(code, (t.errors.get(code) ?? 0) + 1)
        }
      } catch (err) {
        latencies[i] = performance.now() - t0
        const code = (err as { code?: string }).code ?? 'client error'
        t.errors.set(code, (t.errors.get(code) ?? 0) + 1)
      } finally {
        done++
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  clearInterval(progress)
  const elapsed = (performance.now() - start) / 1000
  await Promise.all(pools.map(p => p.close()))
  if (flags.screenshot !== undefined) await screenshot(`http://127.0.0.1:${String(routerListening[0]?.adminPort)}/`, flags.screenshot)
  await stop()

  const sorted = latencies.slice(0, done).sort()
  const pct = (q: number): string => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(2)
  const misrouted = Object.values(tallies).reduce((n, t) => n + t.misrouted, 0)
  const lines = [
    '',
    `requests: ${done} in ${elapsed.toFixed(1)} s = ${(done / elapsed).toFixed(0)} req/s`,
    `latency: p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms`,
    `misrouted: ${misrouted}`,
    `per pod: ${perPod.map((n, pod) => `${pod}: ${n} (${(100 * n / Math.max(1, perPod.reduce((a, b) => a + b))).toFixed(1)}%)`).join(', ')}`
  ]
  for (const [name, t] of Object.entries(tallies) as Array<[Phase, Tally]>) {
    if (!flags.chaos && name !== 'before') continue
    const errors = [...t.errors.entries()].map(([code, n]) => `${code}: ${n}`).join(', ') || 'none'
    const label = { before: 'started before the kill', during: 'started while gateway-1 was down', after: 'started after it answered again' }[name]
    lines.push(`${flags.chaos ? `${label}: ` : ''}ok ${t.ok}, errors ${errors}`)
  }
  process.stdout.write(`${lines.join('\n')}\n`)
  process.exitCode = misrouted === 0 ? 0 : 1
}

main().catch(err => { process.stderr.write(`load: ${err instanceof Error ? err.message : String(err)}\n`); process.exit(2) })

/** The status page in Debian's Chromium (CHROMIUM_PATH to use another), as an operator would see it now. */
async function screenshot (url: string, file: string): Promise<void> {
  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] })
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } })
    await page.goto(url)
    await page.screenshot({ path: file, fullPage: true })
    process.stdout.write(`status page of router 0 saved to ${file}\n`)
  } finally {
    await browser.close()
  }
}
