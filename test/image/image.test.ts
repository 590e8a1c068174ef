import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, lstatSync, readFileSync, readdirSync, type Stats } from 'node:fs'
import { join } from 'node:path'
import { Agent, Pool, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seededSnowflakes } from '../../service/routing/snowflakes'
import { strategy } from '../../service/routing/strategies'
import { runLoad } from '../helpers/load'
import { recordHostState, restoreHostState } from './host-state'
import { freeSubnet, machineNetworks } from '../helpers/networks'
import { ROOT, podman, podmanEnv, podmanTry } from './podman'

/**
 * `npm run test:image`: the image built from the Dockerfile, run the way the
 * cluster runs it. Three reference gateways and the router, all from that
 * image, in a podman network of the test's own where the router finds
 * gateway-<n>.gateway-internal by name through its default URL template, under
 * the pods' restrictions: read-only root, uid 1000, no capabilities, no new
 * privileges. Only the router's ports are published, on 127.0.0.1.
 */
const IMAGE = 'localhost/guild-router:test'
const NETWORK = 'guild-router-image-test'
const ROUTER = 'guild-router-image-router'
const NUM_PODS = 3
const GATEWAYS = Array.from({ length: NUM_PODS }, (_, n) => `gateway-${n}`)
const CONTAINERS = [ROUTER, ...GATEWAYS]
// 10.0.0.0/8 ranges podman and CNI do not use by default; the first that
// overlaps nothing on this machine is taken.
const SUBNETS = [41, 97, 163, 211].map(b => `10.${b}.57.0/24`)
const RESTRICTED = ['--read-only', '--user', '1000:1000', '--cap-drop=ALL', '--security-opt', 'no-new-privileges']
const pick = strategy('md5-mod').pick

const env = podmanEnv()
// Podman's machine-wide places, which the test's own configuration replaces.
const GLOBAL_PLACES = ['/var/lib/containers', '/run/containers', '/run/libpod', '/etc/containers/networks', '/var/cache/containers']
const globalBefore = GLOBAL_PLACES.filter(p => exists(p))
const HOST_STATE = join(env.GUILD_ROUTER_TOOLCHAIN ?? '', 'podman', 'host-state.json')
let subnet = ''
let routerUrl = ''
let adminUrl = ''
let agent: Agent

function log (text: string): void {
  process.stderr.write(`[image ${new Date().toISOString().slice(11, 19)}] ${text}\n`)
}

/** The containers, network and mounts this test creates, also a crashed run's. */
async function removeOurs (): Promise<void> {
  await podmanTry(env, ['rm', '--force', '--time', '0', '--ignore', ...CONTAINERS])
  await podmanTry(env, ['image', 'unmount', '--all'])
  await podmanTry(env, ['network', 'rm', '--force', NETWORK])
}

function run (cmd: string, args: readonly string[], opts: { inheritStderr?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', opts.inheritStderr === true ? 'inherit' : 'pipe'] })
    let out = ''
    let err = ''
    child.stdout?.on('data', (c: Buffer) => { out += c.toString() })
    child.stderr?.on('data', (c: Buffer) => { err += c.toString() })
    child.once('error', reject)
    child.once('exit', code => code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`)))
  })
}

/** Resolves with the container's `{"msg":"listening"}` log line, or rejects if it exits first. */
async function listening (name: string): Promise<void> {
  const until = Date.now() + 60_000
  while (Date.now() < until) {
    const logs = await podmanTry(env, ['logs', name])
    if (logs.stdout.includes('"listening"')) return
    const state = (await podman(env, ['inspect', '--format', '{{.State.Status}}', name])).trim()
    if (state !== 'running') throw new Error(`${name} is ${state}: ${logs.stdout}${logs.stderr}`)
    await new Promise(r => setTimeout(r, 200))
  }
  throw new Error(`${name} did not start listening within 60 s`)
}

async function publishedUrl (port: number): Promise<string> {
  const out = (await podman(env, ['port', ROUTER, `${port}/tcp`])).trim().split('\n')[0] ?? ''
  expect(out).toMatch(/^127\.0\.0\.1:\d+$/)
  return `http://${out}`
}

function guildsOf (pod: number, count: number, seed: bigint): string[] {
  const ids: string[] = []
  for (const id of seededSnowflakes(100_000, seed)) {
    if (pick(id, NUM_PODS) === pod) ids.push(id)
    if (ids.length === count) break
  }
  return ids
}

beforeAll(async () => {
  if (existsSync(HOST_STATE)) {
    log('undoing what a crashed run left behind')
    await removeOurs()
    restoreHostState(HOST_STATE, '')
  }
  // Before podman first runs: even `podman network rm` leaves netavark state behind.
  recordHostState(HOST_STATE)
  await removeOurs()
  subnet = freeSubnet(machineNetworks(), SUBNETS)
  const t0 = performance.now()
  const archive = (await run(join(ROOT, 'scripts/image/build-image.sh'), [], { inheritStderr: true })).trim()
  log(`image built in ${Math.round((performance.now() - t0) / 1000)} s; OCI archive for the real-node tier: ${archive}`)

  log(`network ${NETWORK} on ${subnet}`)
  await podman(env, ['network', 'create', '--subnet', subnet, NETWORK])
  for (const [n, name] of GATEWAYS.entries()) {
    await podman(env, ['run', '--detach', '--name', name, '--network', NETWORK,
      '--network-alias', `${name}.gateway-internal`, ...RESTRICTED,
      '--env', `ORDINAL=${n}`, '--env', `NUM_GATEWAY_PODS=${NUM_PODS}`, '--env', 'ROUTING_STRATEGY=md5-mod',
      '--env', 'PORT=3000', '--env', 'HOST=0.0.0.0',
      IMAGE, 'node', 'dist/service/gateway/reference-gateway-main.js'])
  }
  // No GATEWAY_URLS or GATEWAY_URL_TEMPLATE: the default template must name the pods.
  // DRAIN_DELAY_MS stands in for the Deployment's preStop pause, which podman lacks.
  await podman(env, ['run', '--detach', '--name', ROUTER, '--network', NETWORK, ...RESTRICTED,
    '--publish', '127.0.0.1::8080', '--publish', '127.0.0.1::9090',
    '--env', `NUM_GATEWAY_PODS=${NUM_PODS}`, '--env', 'DRAIN_DELAY_MS=3000',
    // info: the drain test reads the time of its 'shutdown requested' line.
    '--env', 'SHUTDOWN_TIMEOUT_MS=10000', '--env', 'LOG_LEVEL=info', IMAGE])
  await Promise.all(CONTAINERS.map(listening))
  routerUrl = await publishedUrl(8080)
  adminUrl = await publishedUrl(9090)
  agent = new Agent({ connections: 16, headersTimeout: 15_000, bodyTimeout: 15_000 })
  log(`router on ${routerUrl}, admin on ${adminUrl}`)
})

afterAll(async () => {
  await agent?.close()
  await removeOurs()
  restoreHostState(HOST_STATE, subnet)
  // The machine's own container storage and configuration are as they were.
  expect(GLOBAL_PLACES.filter(p => exists(p))).toEqual(globalBefore)
})

describe('the image', () => {
  it('holds production dependencies and the service only, root-owned and read-only to uid 1000, no CA or npmrc of the machine', async () => {
    const root = (await podman(env, ['image', 'mount', IMAGE])).trim()
    try {
      const app = join(root, 'app')
      expect(readdirSync(app).sort()).toEqual(['bin', 'dist', 'node_modules', 'package.json'])
      expect(readdirSync(join(app, 'dist'))).toEqual(['service'])

      const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as
        { packages: Record<string, { dev?: boolean, optional?: boolean, devOptional?: boolean }> }
      const shipped: string[] = []
      const omitted: string[] = []
      for (const [path, entry] of Object.entries(lock.packages)) {
        if (path === '') continue
        const present = exists(join(app, path, 'package.json'))
        if (entry.dev === true || entry.optional === true || entry.devOptional === true) { if (present) shipped.push(path) } else if (!present) omitted.push(path)
      }
      expect(shipped, 'dev or optional packages in the image').toEqual([])
      expect(omitted, 'production packages missing from the image').toEqual([])

      const problems: string[] = []
      const files = walk(app, (path, st) => {
        const rel = path.slice(root.length)
        if (st.uid !== 0 || st.gid !== 0) problems.push(`${rel}: owned by ${st.uid}:${st.gid}`)
        if ((st.mode & 0o022) !== 0 && !st.isSymbolicLink()) problems.push(`${rel}: writable by group or others (${(st.mode & 0o777).toString(8)})`)
        if (st.isDirectory() && readdirSync(path).length === 0) problems.push(`${rel}: empty directory`)
        if (/^\/app\/(dist|bin)\//.test(rel) && /(^|\/)(test|bench|dev|__tests__)(\/|$)|\.test\.|processes\.js|local-topology/.test(rel)) problems.push(`${rel}: test or bench code`)
      })
      expect(problems).toEqual([])

      // What build-image.sh mounts for the build's RUN steps: npm's cafile
      // (else NODE_EXTRA_CA_CERTS), an npmrc naming it, and a canary that is
      // there whether the machine has CA settings or not.
      const npmCafile = execFileSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8', env }).trim()
      const cas = [npmCafile, process.env.NODE_EXTRA_CA_CERTS ?? ''].filter(exists).map(f => readFileSync(f))
      const leaks: string[] = []
      for (const dir of ['usr/local', 'etc', 'root', 'home', 'app', 'tmp', 'var', 'opt']) {
        if (!exists(join(root, dir))) continue
        walk(join(root, dir), (path, st) => {
          if (/(^|\/)(\.?npmrc|build-mount-canary)$/.test(path)) leaks.push(path.slice(root.length))
          // (Debian's own bundle, from the base image's ca-certificates, may equal a machine cafile that is Debian's too.)
          if (st.isFile() && !path.endsWith('/etc/ssl/certs/ca-certificates.crt') && cas.some(ca => st.size === ca.length && readFileSync(path).equals(ca))) leaks.push(path.slice(root.length))
        })
      }
      expect(leaks, 'the machine\'s npm CA settings in the image').toEqual([])

      const size = Number((await podman(env, ['image', 'inspect', '--format', '{{.Size}}', IMAGE])).trim())
      const appBytes = files.reduce((n, f) => n + f, 0)
      log(`image ${(size / 1e6).toFixed(1)} MB, of which /app ${(appBytes / 1e6).toFixed(1)} MB`)
    } finally {
      await podman(env, ['image', 'unmount', IMAGE])
    }
  })
})

describe('the router and three gateways from the image, on the default URL template', () => {
  it('sends a few hundred random guilds to the owner the admin port names, and that gateway says it is that ordinal', async () => {
    const seed = BigInt(`0x${randomBytes(8).toString('hex')}`)
    log(`random guilds from seed ${seed}`)
    const ids = [...seededSnowflakes(300, seed)]
    const mismatches: string[] = []
    const queue = [...ids]
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const route = await request(`${adminUrl}/route/${id}`, { dispatcher: agent })
        const { pod } = await route.body.json() as { pod: number }
        const res = await request(`${routerUrl}/guilds/${id}/messages`, { dispatcher: agent, headers: { 'x-guild-id': id } })
        const body = await res.body.json() as { ordinal?: number }
        if (res.statusCode !== 200 || res.headers['x-gateway-pod'] !== String(pod) || body.ordinal !== pod || pod !== pick(id, NUM_PODS)) {
          mismatches.push(`${id}: status ${res.statusCode}, x-gateway-pod ${String(res.headers['x-gateway-pod'])}, gateway ${body.ordinal}, /route ${pod}`)
        }
      }
    }))
    expect(mismatches).toEqual([])
  })

  it('answers a gateway whose SYNs are dropped with a coded 503 or 504 within the deadline, then fast 503s once it is ejected, and no other gateway serves its guilds', async () => {
    // Its node gone, as far as the router can tell: the container keeps its
    // name and address, and its network drops every SYN to the port. (A
    // stopped container has no name, so every failure would be instant with
    // or without ejection.)
    const pid = (await podman(env, ['inspect', '--format', '{{.State.Pid}}', 'gateway-1'])).trim()
    await run('nsenter', ['--target', pid, '--net', 'iptables', '-I', 'INPUT', '-p', 'tcp', '--dport', '3000', '-j', 'DROP'])
    const served: string[] = []
    const outcomes: Array<{ ms: number, message: string }> = []
    for (const id of guildsOf(1, 20, 7n)) {
      const t0 = performance.now()
      const res = await request(`${routerUrl}/guilds/${id}`, { dispatcher: agent, headers: { 'x-guild-id': id } })
      const body = await res.body.json() as { error?: string, message?: string }
      outcomes.push({ ms: performance.now() - t0, message: body.message ?? '' })
      // 503: never sent (a connect that failed or outlasted the deadline);
      // 504: written on a connection kept alive from before, whose packets
      // are dropped too, so it may have arrived and is not counted toward
      // ejection. Either with a code, from pod 1, never from another pod.
      const coded = (res.statusCode === 503 && body.error === 'gateway_unavailable') || (res.statusCode === 504 && body.error === 'gateway_timeout')
      if (!coded || (res.headers['x-gateway-pod'] ?? '1') !== '1') {
        served.push(`${id}: ${res.statusCode} ${JSON.stringify(body)} from pod ${String(res.headers['x-gateway-pod'])}`)
      }
    }
    log(`blackholed gateway-1: ${outcomes.map(o => o.ms.toFixed(0)).join(', ')} ms`)
    expect(served).toEqual([])
    // None outlasts the 2.5 s deadline by more than a busy machine's slack.
    expect(outcomes.filter(o => o.ms > 4_000)).toEqual([])
    // The first waits out connect timeouts until the deadline; by then three
    // connects have failed and the pod is ejected. Without ejection every one
    // would take the deadline; once ejected none tries a connect.
    expect(outcomes[0]?.ms).toBeGreaterThan(1_000)
    expect(outcomes.slice(-10).filter(o => o.ms > 1_000 || !o.message.includes('ejected'))).toEqual([])

    for (const pod of [0, 2]) {
      const [id = ''] = guildsOf(pod, 1, 7n)
      const res = await request(`${routerUrl}/guilds/${id}`, { dispatcher: agent, headers: { 'x-guild-id': id } })
      await res.body.dump()
      expect([res.statusCode, res.headers['x-gateway-pod']]).toEqual([200, String(pod)])
    }
  })

  it('on podman stop under load, serves what still arrives during its drain and everything it accepted, and exits 0', async () => {
    const ids = [...guildsOf(0, 50, 11n), ...guildsOf(2, 50, 11n)]
    const pool = new Pool(routerUrl, { connections: 4, headersTimeout: 15_000, bodyTimeout: 15_000 })
    const sentAt: number[] = []
    let notReady = false
    let sentWhileNotReady = 0
    const load = runLoad(pool, {
      workers: 4,
      requests: 50_000,
      // A Service keeps sending for a moment after the pod turns not ready
      // (DRAIN_DELAY_MS, 3 s, stands for that moment): 200 more requests,
      // well inside it, are that traffic.
      stop: () => sentWhileNotReady >= 200,
      next: i => {
        sentAt[i] = Date.now()
        if (notReady) sentWhileNotReady++
        return { method: 'GET', path: `/guilds/${ids[i % ids.length]}`, guildId: ids[i % ids.length] ?? '' }
      }
    }, 'stop')
    await new Promise(r => setTimeout(r, 500))
    const stopped = podman(env, ['stop', '--time', '30', ROUTER], 60_000)
    const until = Date.now() + 20_000
    while (!notReady && Date.now() < until) {
      const ready = await request(`${adminUrl}/readyz`, { dispatcher: agent }).then(async r => { await r.body.dump(); return r.statusCode === 200 }, () => false)
      if (!ready) notReady = true
      else await new Promise(r => setTimeout(r, 50))
    }
    expect(notReady, '/readyz failed within 20 s of podman stop').toBe(true)
    const outcomes = await load
    await stopped
    await pool.close()

    const failed = outcomes.filter(o => o.status !== 200 || o.pod !== String(pick(o.guildId, NUM_PODS)))
    expect(failed.map(o => `${o.id} ${o.guildId}: ${o.status ?? o.error} pod ${o.pod}`)).toEqual([])
    // When the signal arrived, by the router's own log: podman only starts
    // sending it when its command runs, so the test's clock cannot say.
    const line = (await podman(env, ['logs', ROUTER])).split('\n').find(l => l.includes('"shutdown requested"'))
    expect(line, 'the router logged the signal').toBeDefined()
    const signalledAt = Date.parse((JSON.parse(line as string) as { time: string }).time)
    expect(signalledAt).toBeGreaterThan(0)
    const afterSignal = outcomes.filter(o => (sentAt[Number(o.id.split('-').pop())] ?? 0) > signalledAt)
    expect(afterSignal.length).toBeGreaterThanOrEqual(200)
    const state = (await podman(env, ['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', ROUTER])).trim()
    expect(state).toBe('0 false')
    log(`${outcomes.length} requests under load, ${afterSignal.length} of them sent after SIGTERM, all answered by their owner; the router exited 0`)
  })
})

function exists (path: string): boolean {
  if (path === '') return false
  try { lstatSync(path); return true } catch { return false }
}

/** Calls `visit` for every entry under `dir` (not following links); returns the regular files' sizes. */
function walk (dir: string, visit: (path: string, st: Stats) => void): number[] {
  const sizes: number[] = []
  const stack = [dir]
  for (let d = stack.pop(); d !== undefined; d = stack.pop()) {
    visit(d, lstatSync(d))
    for (const name of readdirSync(d)) {
      const path = join(d, name)
      const st = lstatSync(path)
      if (st.isDirectory()) stack.push(path)
      else {
        visit(path, st)
        if (st.isFile()) sizes.push(st.size)
      }
    }
  }
  return sizes
}
