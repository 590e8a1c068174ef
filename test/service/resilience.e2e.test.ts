import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Client, Pool, request } from 'undici'
import { seededSnowflakes } from '../../service/routing/snowflakes'
import { jump, md5Mod } from '../../service/routing/strategies'
import { guildOwnedBy } from '../helpers/guilds'
import { runLoad, type Outcome } from '../helpers/load'
import { Cleanup, scriptedGateway, startGateway, startGateways, startRouterProcess } from '../helpers/topology'
import { testScratchDir } from '../helpers/scratch-dir'

/**
 * The fault tests: real gateway and router processes on 127.0.0.1. Each run
 * is bounded by counts and asserts outcomes — what each client got, what each
 * gateway received — never how much got done in a time window, so a busy
 * machine only makes them slower.
 */
const cleanup = new Cleanup()
afterEach(() => cleanup.run())

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

function pool (url: string, connections = 8): Pool {
  const p = new Pool(url, { connections })
  cleanup.add(() => p.destroy())
  return p
}

function deliveries (logs: string[]): Map<string, number> {
  const seen = new Map<string, number>()
  for (const file of logs) {
    if (!existsSync(file)) continue
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const id = line.split(' ')[1]
      if (id !== undefined) seen.set(id, (seen.get(id) ?? 0) + 1)
    }
  }
  return seen
}

describe('1. a gateway killed under mixed GET/POST load', () => {
  it('never delivers a POST twice; every client gets JSON or a clean connection error', async () => {
    const dir = testScratchDir('kill-')
    const logs = [0, 1, 2].map(n => join(dir, `gateway-${n}.log`))
    const gateways = await startGateways(cleanup, 3, 'md5-mod', n => ({ REQUEST_LOG: logs[n] as string }))
    const router = await startRouterProcess(cleanup, {
      NUM_GATEWAY_PODS: '3', GATEWAY_URLS: gateways.urls.join(',')
    })
    // Random per run; printed so that a failure can be replayed.
    const seed = BigInt(process.env.RESILIENCE_SEED ?? Date.now())
    process.stderr.write(`[resilience] guilds from seed ${seed} (RESILIENCE_SEED=${seed} replays it)\n`)
    const ids = [...seededSnowflakes(600, seed)]
    // Killed a third of the way in: two thirds of the run meet the dead pod.
    const outcomes = await runLoad(pool(router.base), {
      workers: 12,
      requests: 3000,
      onSend: i => { if (i === 1000) void gateways.procs[1]?.stop('SIGKILL') },
      next: i => ({
        method: i % 2 === 0 ? 'GET' : 'POST',
        path: '/interactions',
        guildId: ids[i % ids.length] as string,
        body: i % 2 === 0 ? undefined : JSON.stringify({ type: 2, n: i })
      })
    }, 'kill')

    const seen = deliveries(logs)
    const posts = outcomes.filter(o => o.method === 'POST')
    // The logs are the evidence: every POST answered 200 was delivered, and exactly once.
    const answered = posts.filter(o => o.status === 200)
    expect(answered.length).toBeGreaterThan(500)
    expect(answered.filter(o => seen.get(o.id) !== 1).map(o => `${o.id}: delivered ${seen.get(o.id) ?? 0} times`)).toEqual([])
    const duplicated = posts.filter(o => (seen.get(o.id) ?? 0) > 1).map(o => o.id)
    expect(duplicated).toEqual([])
    for (const o of outcomes) {
      // JSON from the gateway or the router, or a connection the router closed.
      if (o.error === undefined) expect(o.json, `${o.id} ${o.status}`).toBeDefined()
    }
    // Every request the gateways logged was answered to its client; nothing was lost or invented.
    for (const id of seen.keys()) expect(outcomes.some(o => o.id === id), id).toBe(true)
    // The kill mattered: pod 1's guilds failed, the others' kept working.
    const onPod1 = outcomes.filter(o => md5Mod(o.guildId, 3) === 1 && o.status !== undefined && o.status >= 500)
    expect(onPod1.length).toBeGreaterThan(0)
    expect(onPod1.every(o => ['bad_gateway', 'gateway_unavailable', 'gateway_timeout'].includes(String(o.json?.error)))).toBe(true)
    const others = outcomes.filter(o => md5Mod(o.guildId, 3) !== 1)
    expect(others.every(o => o.status === 200)).toBe(true)
    // Ownership was never given away: no answer for pod 1's guilds came from another pod.
    expect(outcomes.filter(o => md5Mod(o.guildId, 3) === 1 && o.status === 200 && o.pod !== '1')).toEqual([])
  })
})

describe('2. a gateway restarted', () => {
  it('serves its guilds again once it answers: the active check brings it back, not the ejection running out', async () => {
    const gateways = await startGateways(cleanup, 3)
    const router = await startRouterProcess(cleanup, {
      NUM_GATEWAY_PODS: '3',
      GATEWAY_URLS: gateways.urls.join(','),
      HEALTH_CHECK_PATH: '/healthz',
      HEALTH_CHECK_INTERVAL_MS: '100',
      // Long enough that only the active check can explain a quick return.
      EJECT_BASE_MS: '20000',
      EJECT_MAX_MS: '20000'
    })
    const guild = guildOwnedBy(1, 3)
    const port = new URL(gateways.urls[1] as string).port
    await gateways.procs[1]?.stop('SIGKILL')

    let ejected = false
    for (let i = 0; i < 20 && !ejected; i++) {
      const res = await request(`${router.base}/guilds/${guild}`)
      const body = await res.body.json() as { error?: string, message?: string }
      expect(res.statusCode).toBe(503)
      expect(res.headers['retry-after']).toMatch(/^\d+$/)
      ejected = body.message?.includes('ejected') === true
    }
    expect(ejected).toBe(true)
    const metrics = await (await request(`${router.admin}/metrics`)).body.text()
    expect(metrics).toMatch(/^guild_router_pod_state\{gateway="1",state="ejected"\} 1$/m)
    expect(metrics).toMatch(/^guild_router_ejections_total\{gateway="1"\} 1$/m)

    const restarted = startGateway(cleanup, 1, { PORT: port })
    await restarted.listening
    // Bounded by attempts; the outcome that matters is who brought it back.
    let served = false
    for (let i = 0; i < 500 && !served; i++) {
      const res = await request(`${router.base}/guilds/${guild}`)
      await res.body.dump()
      served = res.statusCode === 200
      if (!served) await sleep(20)
    }
    expect(served).toBe(true)
    // The active check, not the 20 s ejection running out, ended the ejection.
    expect(router.proc.lines.some(l => l.includes('gateway pod 1 is up: health check answered'))).toBe(true)
    expect(router.proc.lines.some(l => l.includes('ejection expired'))).toBe(false)
  })
})

describe('3. a gateway that resets mid-response', () => {
  it('gives the client a broken connection, not a short 200, and is not retried', async () => {
    let hits = 0
    const gateway = await scriptedGateway(cleanup, (_req, res) => {
      hits++
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
      res.write('{"partial":')
      setTimeout(() => res.socket?.destroy(), 20)
    })
    const router = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '1', GATEWAY_URLS: gateway.url })
    const res = await request(`${router.base}/guilds/1`)
    expect(res.statusCode).toBe(200)
    await expect(res.body.text()).rejects.toThrow()
    expect(hits).toBe(1)
  })
})

describe('4. a gateway that stalls', () => {
  it('answers 504 gateway_timeout at the deadline', async () => {
    const gateway = await scriptedGateway(cleanup, () => { /* never answers */ })
    const router = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '1', GATEWAY_URLS: gateway.url, REQUEST_DEADLINE_MS: '600' })
    const t0 = performance.now()
    const res = await request(`${router.base}/guilds/1`)
    const elapsed = performance.now() - t0
    expect(res.statusCode).toBe(504)
    expect(await res.body.json()).toMatchObject({ error: 'gateway_timeout' })
    // Never before the deadline (a busy machine can only make it later), and
    // the configured one: the 2,500 ms default would be far past this bound.
    expect(elapsed).toBeGreaterThanOrEqual(550)
    expect(elapsed).toBeLessThan(2_000)
  })
})

describe('5. a gateway answering 503 with Retry-After', () => {
  it('idempotent requests are retried after it; POSTs are not', async () => {
    const seen = new Map<string, number>()
    const gateway = await scriptedGateway(cleanup, (req, res) => {
      const id = String(req.headers['x-request-id'])
      const n = (seen.get(id) ?? 0) + 1
      seen.set(id, n)
      req.resume()
      req.on('end', () => {
        if (n === 1) {
          res.writeHead(503, { 'retry-after': '1', 'content-type': 'application/json' })
          res.end('{"error":"warming_up"}')
        } else {
          res.end('{"ok":true}')
        }
      })
    })
    const router = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '1', GATEWAY_URLS: gateway.url, REQUEST_DEADLINE_MS: '2500' })

    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const t0 = performance.now()
      const res = await request(`${router.base}/guilds/1`, { method, headers: { 'x-request-id': `ra-${method}` }, body: method === 'PUT' ? '{}' : undefined })
      expect(res.statusCode, method).toBe(200)
      expect(await res.body.json()).toEqual({ ok: true })
      expect(performance.now() - t0).toBeGreaterThanOrEqual(950)
      expect(seen.get(`ra-${method}`)).toBe(2)
    }

    const post = await request(`${router.base}/guilds/1`, { method: 'POST', headers: { 'x-request-id': 'ra-POST' }, body: '{"a":1}' })
    expect(post.statusCode).toBe(503) // the gateway's own answer, passed through
    expect(post.headers['retry-after']).toBe('1')
    expect(await post.body.json()).toEqual({ error: 'warming_up' })
    expect(seen.get('ra-POST')).toBe(1)
  })

  it('a Retry-After past the deadline is passed through rather than waited on', async () => {
    let hits = 0
    const gateway = await scriptedGateway(cleanup, (_req, res) => {
      hits++
      res.writeHead(503, { 'retry-after': '30', 'content-type': 'application/json' })
      res.end('{"error":"maintenance"}')
    })
    const router = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '1', GATEWAY_URLS: gateway.url })
    const res = await request(`${router.base}/guilds/1`)
    // Waiting would have ended in the router's own 504 at the deadline, after a retry.
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe('30')
    expect(await res.body.json()).toEqual({ error: 'maintenance' })
    expect(hits).toBe(1)
  })
})

describe('6. a template URL whose host does not resolve', () => {
  it('behaves as a pod that is not ready: 503 with Retry-After, and the router keeps running', async () => {
    const router = await startRouterProcess(cleanup, {
      NUM_GATEWAY_PODS: '2', GATEWAY_URL_TEMPLATE: 'http://gateway-{ordinal}.gateway-internal.invalid:3000'
    })
    for (let i = 0; i < 10; i++) {
      const res = await request(`${router.base}/guilds/${guildOwnedBy(i % 2, 2)}`)
      expect(res.statusCode).toBe(503)
      expect(res.headers['retry-after']).toMatch(/^\d+$/)
      expect(await res.body.json()).toMatchObject({ error: 'gateway_unavailable' })
    }
    expect((await request(`${router.admin}/healthz`)).statusCode).toBe(200)
    expect(router.proc.child.exitCode).toBeNull()
    const logs = router.proc.lines.map(l => JSON.parse(l) as Record<string, unknown>)
    expect(logs.some(l => l.state === 'ejected')).toBe(true)
  })
})

describe('7. the router sent SIGTERM under load', () => {
  it('fails none of the requests it accepted, then exits 0 (bounded by counts, not a time window)', async () => {
    // The gateway holds every request until the test lets go, so "in flight
    // when the signal arrives" is a fact, not a hope about timing.
    const held: Array<() => void> = []
    let received = 0
    let releasing = false
    const gateway = await scriptedGateway(cleanup, (req, res) => {
      received++
      req.resume()
      const answer = (): void => { res.end('{"ok":true}') }
      if (releasing) answer()
      else held.push(answer)
    })
    const router = await startRouterProcess(cleanup, {
      NUM_GATEWAY_PODS: '1', GATEWAY_URLS: gateway.url, DRAIN_DELAY_MS: '3000', SHUTDOWN_TIMEOUT_MS: '10000'
    })
    const exited = once(router.proc.child, 'exit')
    const send = (n: number, tag: string): Promise<Outcome[]> => runLoad(pool(router.base, 16), {
      workers: 16,
      requests: n,
      next: i => ({ method: i % 2 === 0 ? 'GET' : 'POST', path: '/interactions', guildId: '81384788765712384', body: i % 2 === 0 ? undefined : '{}' })
    }, tag)

    const before = send(16, 'before')
    while (held.length < 16) await sleep(10)
    router.proc.child.kill('SIGTERM')
    // Readiness fails once the router has the signal; the 16 are still held.
    let ready = 200
    for (let i = 0; i < 200 && ready === 200; i++) {
      const r = await request(`${router.admin}/readyz`)
      await r.body.dump()
      ready = r.statusCode
      if (ready === 200) await sleep(10)
    }
    expect(ready).toBe(503)
    expect(held).toHaveLength(16)
    // As in a cluster, clients keep coming during the drain (endpoints lag the
    // readiness change): 32 more, answered at once.
    releasing = true
    for (const answer of held.splice(0)) answer()
    const during = await send(32, 'during')
    const inFlight = await before
    const [code] = await exited as [number]

    expect(code).toBe(0)
    // The 16 held across the signal were all answered.
    expect(inFlight.filter(o => o.status !== 200)).toEqual([])
    // A later one was served, or refused if the drain was already over on a
    // slow machine: never accepted and then failed.
    expect(during.filter(o => o.status !== 200 && o.error !== 'ECONNREFUSED')).toEqual([])
    // The drain lasts 3 s and the 32 are sent at once: they were served, not all refused.
    expect(during.filter(o => o.status === 200).length).toBeGreaterThan(0)
    // The gateway saw each answered request exactly once, and nothing else.
    expect(received).toBe(16 + during.filter(o => o.status === 200).length)
  })

  it('refuses new connections once the drain is over, and never resets an accepted request', async () => {
    let received = 0
    const gateway = await scriptedGateway(cleanup, (req, res) => { received++; req.resume(); setTimeout(() => res.end('{}'), 20) })
    const router = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '1', GATEWAY_URLS: gateway.url, DRAIN_DELAY_MS: '200' })
    const exited = once(router.proc.child, 'exit')
    const fresh = (): Client => { const c = new Client(router.base); cleanup.add(() => c.destroy()); return c }
    const slow = fresh().request({ path: '/guilds/1', method: 'GET' }).then(async r => { await r.body.dump(); return r.statusCode }, (e: unknown) => e)
    while (received < 1) await sleep(5) // accepted and at the gateway before the signal
    router.proc.child.kill('SIGTERM')
    // Each new connection is either served in full (drain not over yet) or
    // refused (never accepted, so never half-served); once refused, always refused.
    const answers: unknown[] = []
    for (let i = 0; i < 400 && answers.at(-1) !== 'ECONNREFUSED'; i++) {
      answers.push(await fresh().request({ path: '/guilds/1', method: 'GET' })
        .then(async r => { await r.body.dump(); return r.statusCode }, (e: { code?: string }) => e.code))
      await sleep(10)
    }
    expect(answers.at(-1)).toBe('ECONNREFUSED')
    expect(answers.slice(0, -1).filter(a => a !== 200)).toEqual([])
    // Once refused, always refused.
    for (let i = 0; i < 5; i++) {
      expect(await fresh().request({ path: '/guilds/1', method: 'GET' }).then(r => r.statusCode, (e: { code?: string }) => e.code)).toBe('ECONNREFUSED')
    }
    expect(await slow).toBe(200)
    expect((await exited)[0]).toBe(0)
  })
  it('keeps a keep-alive connection idle since before SIGTERM open for its advertised timeout: a request sent on it is answered, not reset', async () => {
    // A client writing onto its idle connection just as the router closes it
    // gets a reset and no answer. A real rescale saw three (UND_ERR_SOCKET)
    // when the router cut idle connections 1 s after the drain. The client
    // may reuse its connection until the advertised keep-alive timeout, so
    // the router must keep it open that long.
    let received = 0
    const gateway = await scriptedGateway(cleanup, (req, res) => { received++; req.resume(); res.setHeader('content-length', 2); res.end('{}') })
    const router = await startRouterProcess(cleanup, {
      NUM_GATEWAY_PODS: '1', GATEWAY_URLS: gateway.url, DRAIN_DELAY_MS: '200', CLIENT_KEEPALIVE_TIMEOUT_MS: '20000', SHUTDOWN_TIMEOUT_MS: '30000'
    })
    const exited = once(router.proc.child, 'exit')
    const { port } = new URL(router.base)
    const held = new RawConnection(Number(port))
    cleanup.add(async () => { held.destroy() })
    const first = await held.exchange('GET /guilds/1 HTTP/1.1\r\nhost: router\r\n\r\n')
    expect(first.head).toMatch(/^HTTP\/1\.1 200 /)
    expect(first.head).toMatch(/\r\nkeep-alive: timeout=20\r\n/i)

    router.proc.child.kill('SIGTERM')
    // The listener stops once the drain is over: a new connection is refused.
    let refused = false
    for (let i = 0; i < 400 && !refused; i++) {
      refused = await request(`${router.base}/guilds/1`, { reset: true })
        .then(async r => { await r.body.dump(); return false }, (e: { code?: string }) => e.code === 'ECONNREFUSED')
      if (!refused) await sleep(10)
    }
    expect(refused).toBe(true)
    // Past the 1 s after which the router used to cut idle connections, well
    // inside the 20 s it advertised: the held connection still carries a request.
    await sleep(1_500)
    const second = await held.exchange('GET /guilds/1 HTTP/1.1\r\nhost: router\r\n\r\n')
    expect(second.head).toMatch(/^HTTP\/1\.1 200 /)
    expect(second.head).toMatch(/\r\nconnection: close\r\n/i)
    expect(second.body).toBe('{}')
    // Its answer said close, so the router closes it and, with nothing else open, exits.
    await held.closed
    expect((await exited)[0]).toBe(0)
    expect(received).toBeGreaterThanOrEqual(2)
  })
})

/** One client connection written and read by hand, so the test sees exactly what the router did to it. */
class RawConnection {
  private readonly socket: Socket
  private buffered = ''
  private ended = false
  private wake: () => void = () => {}
  readonly closed: Promise<void>

  constructor (port: number) {
    this.socket = connect(port, '127.0.0.1')
    this.socket.setEncoding('utf8')
    this.socket.on('data', (chunk: string) => { this.buffered += chunk; this.wake() })
    this.socket.on('error', () => {})
    this.closed = new Promise(resolve => this.socket.on('close', () => { this.ended = true; this.wake(); resolve() }))
  }

  /** Writes one request and reads one response with a content-length; rejects if the connection ends first. */
  async exchange (raw: string): Promise<{ head: string, body: string }> {
    if (this.ended) throw new Error('the router had closed the connection before the request was sent')
    this.socket.write(raw)
    for (;;) {
      const end = this.buffered.indexOf('\r\n\r\n')
      const length = /\r\ncontent-length: (\d+)\r\n/i.exec(this.buffered.slice(0, end + 2))
      if (end >= 0 && length !== null && this.buffered.length >= end + 4 + Number(length[1])) {
        const head = this.buffered.slice(0, end + 2)
        const body = this.buffered.slice(end + 4, end + 4 + Number(length[1]))
        this.buffered = this.buffered.slice(end + 4 + Number(length[1]))
        return { head, body }
      }
      if (this.ended) throw new Error(`the connection closed with no complete answer (got ${JSON.stringify(this.buffered)})`)
      await new Promise<void>(resolve => { this.wake = resolve })
    }
  }

  destroy (): void { this.socket.destroy() }
}


describe('8. a rollout during a rescale: routers with N=3 and N=4 side by side', () => {
  it('agree on guilds that stay; for a guild that moves, the old router reaches the old owner, which refuses it (421)', async () => {
    // The gateways already run with N=4 (the StatefulSet scaled first), jump hashing.
    // The old router lists three URLs and has no template, so it cannot dial the
    // owner the 421 names and passes the refusal on (ownership-refusals.e2e.test.ts
    // and the stateful tiers cover following it).
    const gateways = await startGateways(cleanup, 4, 'jump')
    const [old, fresh] = await Promise.all([
      startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '3', GATEWAY_URLS: gateways.urls.slice(0, 3).join(','), ROUTING_STRATEGY: 'jump' }),
      startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '4', GATEWAY_URLS: gateways.urls.join(','), ROUTING_STRATEGY: 'jump' })
    ])
    let moved = 0
    for (const guild of seededSnowflakes(200, 5n)) {
      const before = jump(guild, 3)
      const after = jump(guild, 4)
      const viaOld = await request(`${old.base}/guilds/${guild}`)
      const viaNew = await request(`${fresh.base}/guilds/${guild}`)
      const oldBody = await viaOld.body.json() as { error?: string }
      await viaNew.body.dump()
      expect(viaNew.statusCode).toBe(200)
      expect(viaNew.headers['x-gateway-pod']).toBe(String(after))
      expect(viaOld.headers['x-gateway-pod']).toBe(String(before))
      if (before === after) {
        expect(viaOld.statusCode).toBe(200)
      } else {
        moved++
        expect(after).toBe(3) // jump only ever moves guilds onto the new pod
        expect(viaOld.statusCode).toBe(421)
        expect(oldBody.error).toBe('not_owner')
      }
    }
    expect(moved).toBeGreaterThan(20)
    expect(moved).toBeLessThan(90)
  })
})
