import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { digestHead32, digestHead64 } from '../service/routing/digest'
import { jump } from '../service/routing/strategies'
import { ensureTools, machine, ROOT } from './bench-tools'
import { lines, renderSvg } from './chart'
import { startNginx, startUpstreams } from './proxies'
import { measureStrategyCost } from './strategy-cost'

/**
 * Routing quality, where a router that knows its pods are StatefulSet
 * ordinals can beat every general-purpose proxy: for 1,000,000 random
 * snowflakes and N = 1…64 pods, the balance (largest pod's share ÷ mean) and
 * the fraction of guilds that move from N to N+1, beside the least possible
 * 1/(N+1). nginx's ketama ring (`hash … consistent`) is measured through
 * nginx itself on a sample. Then the cost of one decision per strategy.
 *   npm run bench:routing -- [--keys 1000000] [--max-pods 64] [--nginx-sample 20000] [--nginx-max-pods 16]
 */
const { values: flags } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    'max-pods': { type: 'string', default: '64' },
    'nginx-sample': { type: 'string', default: '20000' },
    'nginx-max-pods': { type: 'string', default: '16' },
    out: { type: 'string', default: join(ROOT, 'docs', 'bench') }
  }
})
const KEYS = Number(flags.keys)
const MAX_PODS = Number(flags['max-pods'])
const NGINX_SAMPLE = Number(flags['nginx-sample'])
const NGINX_MAX = Number(flags['nginx-max-pods'])
const STRATEGIES = ['md5-mod', 'jump', 'discord-shard'] as const
type Name = typeof STRATEGIES[number] | 'nginx ketama'

interface Row { strategy: Name, pods: number, balance: number, moved?: number }

function randomSnowflakes (count: number): string[] {
  const ids: string[] = []
  const bytes = randomBytes(count * 8)
  for (let i = 0; i < count; i++) {
    // (ms since 2015 << 22) | 22 random bits, from the OS's randomness.
    const ts = bytes.readUIntBE(i * 8, 5) % 2 ** 39
    const low = bytes.readUIntBE(i * 8 + 5, 3) & 0x3FFFFF
    ids.push(((BigInt(ts) << 22n) | BigInt(low)).toString())
  }
  return ids
}

/** Owners under every pod count 1…max+1 for one key, in one pass per strategy. */
function ownersByCount (id: string, max: number, out: Record<typeof STRATEGIES[number], Int32Array>): void {
  const u32 = digestHead32(id)
  const shard = Number(BigInt(id) >> 22n) // below 2^42: exact as a double
  for (let n = 1; n <= max + 1; n++) {
    out['md5-mod'][n] = u32 % n
    out['discord-shard'][n] = shard % n
  }
  // Jump hash's bucket for N is the last bucket its walk visits below N, so
  // one walk serves every N (the same steps as jumpHash, recorded).
  let key = digestHead64(id)
  let bucket = 0
  let next = 0
  for (let n = 1; n <= max + 1; n++) {
    while (next < n) {
      bucket = next
      key = BigInt.asUintN(64, key * 2862933555777941757n + 1n)
      next = Math.floor((bucket + 1) * (2147483648 / (Number(key >> 33n) + 1)))
    }
    out.jump[n] = bucket
  }
}

async function nginxRows (ids: string[]): Promise<Row[]> {
  ensureTools()
  const dir = mkdtempSync(join(tmpdir(), 'guild-ketama-'))
  const upstreams = await startUpstreams(dir, NGINX_MAX + 1, '1')
  const owners: number[][] = []
  try {
    for (let n = 1; n <= NGINX_MAX + 1; n++) {
      const nginx = await startNginx(join(dir), upstreams.ports.slice(0, n), '0')
      const pool = new Pool(nginx.url, { connections: 16 })
      const owner = new Array<number>(ids.length)
      let next = 0
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (next < ids.length) {
          const i = next++
          const res = await pool.request({ path: '/', method: 'GET', headers: { 'x-guild-id': ids[i] as string } })
          await res.body.dump()
          owner[i] = Number(res.headers['x-ordinal'])
        }
      }))
      await pool.close()
      await nginx.stop()
      owners[n] = owner
      process.stdout.write(`  nginx ketama, ${n} pods: measured ${ids.length} guilds\n`)
    }
  } finally {
    await upstreams.stop()
  }
  const rows: Row[] = []
  for (let n = 1; n <= NGINX_MAX; n++) {
    const counts = new Array<number>(n).fill(0)
    let moved = 0
    owners[n]?.forEach((o, i) => { counts[o]! += 1; if (owners[n + 1]?.[i] !== o) moved++ })
    rows.push({ strategy: 'nginx ketama', pods: n, balance: Math.max(...counts) / (ids.length / n), moved: moved / ids.length })
  }
  return rows
}

async function main (): Promise<void> {
  process.stdout.write(`routing quality on ${machine()}: ${KEYS} random snowflakes, N = 1…${MAX_PODS}\n`)
  const ids = randomSnowflakes(KEYS)
  const counts = Object.fromEntries(STRATEGIES.map(s => [s, Array.from({ length: MAX_PODS + 2 }, (_, n) => new Float64Array(n))])) as Record<typeof STRATEGIES[number], Float64Array[]>
  const moved = Object.fromEntries(STRATEGIES.map(s => [s, new Float64Array(MAX_PODS + 2)])) as Record<typeof STRATEGIES[number], Float64Array>
  const owners = Object.fromEntries(STRATEGIES.map(s => [s, new Int32Array(MAX_PODS + 2)])) as Record<typeof STRATEGIES[number], Int32Array>
  // The one-walk shortcut must agree with the router's own jump hash.
  for (const id of ids.slice(0, 1000)) {
    ownersByCount(id, MAX_PODS, owners)
    for (const n of [1, 2, 3, 7, MAX_PODS]) {
      if (owners.jump[n] !== jump(id, n)) throw new Error(`jump walk disagrees with jump() for ${id} at N=${n}`)
    }
  }
  const t0 = performance.now()
  for (const id of ids) {
    ownersByCount(id, MAX_PODS, owners)
    for (const s of STRATEGIES) {
      const o = owners[s]
      for (let n = 1; n <= MAX_PODS; n++) {
        const here = o[n] as number
        ;(counts[s][n] as Float64Array)[here]! += 1
        if (o[n + 1] !== here) moved[s][n]! += 1
      }
    }
  }
  process.stdout.write(`  hashed in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
  const rows: Row[] = STRATEGIES.flatMap(s => Array.from({ length: MAX_PODS }, (_, i) => {
    const n = i + 1
    return { strategy: s, pods: n, balance: Math.max(...(counts[s][n] as Float64Array)) / (KEYS / n), moved: (moved[s][n] as number) / KEYS }
  }))
  const ketama = await nginxRows(ids.slice(0, NGINX_SAMPLE))
  const cost = measureStrategyCost()

  const jumpRows = rows.filter(r => r.strategy === 'jump')
  const worstMove = Math.max(...jumpRows.map(r => Math.abs((r.moved as number) - 1 / (r.pods + 1)) * (r.pods + 1)))
  const worstMoveAbs = Math.max(...jumpRows.map(r => Math.abs((r.moved as number) - 1 / (r.pods + 1))))
  const worstBalance = Math.max(...jumpRows.map(r => r.balance))
  const fmt = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(4))
  const get = (s: Name, n: number): Row | undefined => [...rows, ...ketama].find(r => r.strategy === s && r.pods === n)
  const report = [
    '# Routing quality',
    '',
    `Machine: ${machine()}. Command: \`npm run bench:routing -- --keys ${KEYS} --max-pods ${MAX_PODS} --nginx-sample ${NGINX_SAMPLE} --nginx-max-pods ${NGINX_MAX}\`.`,
    `${KEYS} random snowflakes (random timestamp and low bits). Balance = largest pod's share ÷ mean (1 is perfect).`,
    `Moved = fraction of guilds whose owner changes from N to N+1 pods; the least possible is 1/(N+1).`,
    `nginx ketama (\`hash $http_x_guild_id consistent\`) is measured through nginx on the first ${NGINX_SAMPLE} of the same ids, N ≤ ${NGINX_MAX}: at that sample size its balance carries about ±${(200 / Math.sqrt(NGINX_SAMPLE / NGINX_MAX)).toFixed(0)}% noise.`,
    '',
    `**jump**: for every N, movement is within ${(100 * worstMoveAbs).toFixed(3)} percentage points of 1/(N+1) (${(100 * worstMove).toFixed(2)}% relative); worst balance ${worstBalance.toFixed(4)}.`,
    `For scale: with ${KEYS} uniformly placed keys, even a perfect hash shows a largest pod about 1 + 2.5·√(N/${KEYS}) above the mean, which is ${(1 + 2.5 * Math.sqrt(MAX_PODS / KEYS)).toFixed(3)} at N = ${MAX_PODS}.`,
    '',
    '| N | least moved | md5-mod moved | jump moved | discord-shard moved | nginx ketama moved | md5-mod balance | jump balance | discord-shard balance | nginx ketama balance |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...Array.from({ length: MAX_PODS }, (_, i) => i + 1).map(n => `| ${n} | ${(1 / (n + 1)).toFixed(4)} | ${fmt(get('md5-mod', n)?.moved)} | ${fmt(get('jump', n)?.moved)} | ${fmt(get('discord-shard', n)?.moved)} | ${fmt(get('nginx ketama', n)?.moved)} | ${fmt(get('md5-mod', n)?.balance)} | ${fmt(get('jump', n)?.balance)} | ${fmt(get('discord-shard', n)?.balance)} | ${fmt(get('nginx ketama', n)?.balance)} |`),
    '',
    '## Cost of one routing decision',
    '',
    '| strategy | ns/op |', '|---|---|',
    ...cost.map(c => `| ${c.strategy} | ${c.nsPerOp.toFixed(0)} |`),
    ''
  ].join('\n')
  mkdirSync(flags.out, { recursive: true })
  writeFileSync(join(flags.out, 'routing-quality.md'), report)
  const all = [...rows, ...ketama]
  writeFileSync(join(flags.out, 'movement.svg'), await renderSvg(lines('Guilds that move from N to N+1 pods', 'N', 'fraction moved',
    [...all.map(r => ({ x: r.pods, series: r.strategy, y: r.moved as number })),
      ...Array.from({ length: MAX_PODS }, (_, i) => ({ x: i + 1, series: 'least possible 1/(N+1)', y: 1 / (i + 2) }))])))
  writeFileSync(join(flags.out, 'balance.svg'), await renderSvg(lines('Balance: largest pod ÷ mean', 'N', 'balance',
    all.map(r => ({ x: r.pods, series: r.strategy, y: r.balance })), { zero: false })))
  process.stdout.write(`${report}\nwrote routing-quality.md, movement.svg and balance.svg to ${flags.out}\n`)
}

main().catch(err => { process.stderr.write(`routing quality: ${err instanceof Error ? err.stack : String(err)}\n`); process.exit(1) })
