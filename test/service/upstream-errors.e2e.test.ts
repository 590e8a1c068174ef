import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startNode } from '../../dev/processes'
import { guildOwnedBy } from '../helpers/guilds'
import { Cleanup, closedPortUrl, scriptedGateway, startRouterProcess, type RouterProcess } from '../helpers/topology'

/**
 * Pod 0 resets the connection, pod 1 never answers, pod 2 is not listening,
 * pod 3 sends half a body then dies: one router sees every upstream failure.
 */
const cleanup = new Cleanup()
let router: RouterProcess
let stalledClosed: Promise<unknown>
const guild = (pod: number): string => guildOwnedBy(pod, 4)

beforeAll(async () => {
  const reset = await scriptedGateway(cleanup, req => req.socket.destroy())
  let signalClosed: (v: unknown) => void = () => {}
  stalledClosed = new Promise(resolve => { signalClosed = resolve })
  const stall = await scriptedGateway(cleanup, (req) => { req.once('close', () => signalClosed(true)) })
  const refused = await closedPortUrl()
  const truncating = await scriptedGateway(cleanup, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' })
    res.write('x'.repeat(400))
    setTimeout(() => res.socket?.destroy(), 50)
  })
  router = await startRouterProcess(cleanup, {
    NUM_GATEWAY_PODS: '4',
    GATEWAY_URLS: [reset.url, stall.url, refused, truncating.url].join(','),
    // Room for pod 0's three attempts on a busy machine: a short deadline made
    // its reset read as a timeout (504) when the retries ran late.
    REQUEST_DEADLINE_MS: '2000'
  })
})
afterAll(() => cleanup.run())

describe('upstream failures map to stable codes', () => {
  it.each([
    [0, 'bad_gateway', 502],
    [1, 'gateway_timeout', 504],
    [2, 'gateway_unavailable', 503]
  ])('pod %i → %s %i', async (pod, code, status) => {
    const res = await request(`${router.base}/guilds/${guild(pod)}`)
    expect(res.statusCode).toBe(status)
    expect(res.headers['x-gateway-pod']).toBe(String(pod))
    expect(await res.body.json()).toEqual({ error: code, message: expect.stringMatching(new RegExp(`^gateway pod ${pod}: `)) })
  })

  it('a gateway that dies mid-response breaks the client connection instead of a short 200', async () => {
    const res = await request(`${router.base}/guilds/${guild(3)}`)
    expect(res.statusCode).toBe(200) // the status line was already on its way
    await expect(res.body.text()).rejects.toThrow()
  })

  it('a client that hangs up aborts the upstream request', async () => {
    const controller = new AbortController()
    const pending = request(`${router.base}/guilds/${guild(1)}`, { signal: controller.signal })
    setTimeout(() => controller.abort(), 100)
    await expect(pending).rejects.toThrow()
    await expect(stalledClosed).resolves.toBe(true)
  })

  it('counts upstream errors by pod and code', async () => {
    const metrics = await (await request(`${router.admin}/metrics`)).body.text()
    expect(metrics).toMatch(/guild_router_upstream_errors_total\{gateway="0",code="bad_gateway"\} [1-9]/)
    expect(metrics).toMatch(/guild_router_upstream_errors_total\{gateway="2",code="gateway_unavailable"\} [1-9]/)
    expect(metrics).toMatch(/guild_router_upstream_errors_total\{gateway="1",code="gateway_timeout"\} [1-9]/)
  })

  it('logs one JSON line per failure with the request id, pod and code', async () => {
    await request(`${router.base}/guilds/${guild(2)}`, { headers: { 'x-request-id': 'trace-me' } })
    await new Promise(resolve => setTimeout(resolve, 100))
    const line = router.proc.lines.map(l => JSON.parse(l) as Record<string, unknown>).find(l => l.requestId === 'trace-me')
    expect(line).toMatchObject({ level: 'warn', pod: 2, code: 'gateway_unavailable', delivery: 'never-sent' })
  })
})

describe('unrouted requests', () => {
  it('UNROUTED=pod0 sends requests that name no guild to pod 0 (Discord PING, DMs)', async () => {
    const local = new Cleanup()
    try {
      const zero = await scriptedGateway(local, (_req, res) => res.end('pod zero'))
      const other = await closedPortUrl()
      const r = await startRouterProcess(local, { NUM_GATEWAY_PODS: '2', GATEWAY_URLS: `${zero.url},${other}`, UNROUTED: 'pod0' })
      const res = await request(`${r.base}/interactions`, { method: 'POST', body: '{"type":1}', headers: { 'content-type': 'application/json' } })
      expect(res.statusCode).toBe(200)
      expect(res.headers['x-gateway-pod']).toBe('0')
      expect(await res.body.text()).toBe('pod zero')
    } finally {
      await local.run()
    }
  })
})

describe('configuration errors', () => {
  it.each([
    [{ NUM_GATEWAY_PODS: 'x' }, 'NUM_GATEWAY_PODS'],
    [{ NUM_GATEWAY_PODS: '2', GATEWAY_URLS: 'http://127.0.0.1:1' }, 'GATEWAY_URLS'],
    [{ NUM_GATEWAY_PODS: '2', ROUTING_STRATEGY: 'maglev' }, 'ROUTING_STRATEGY']
  ])('%j exits non-zero with one line naming %s', async (env, variable) => {
    const local = new Cleanup()
    try {
      const proc = startNode('main.js', { ...env, NUM_GATEWAY_PODS: env.NUM_GATEWAY_PODS })
      local.add(() => proc.stop('SIGKILL'))
      let stderr = ''
      proc.child.stderr?.on('data', (c: Buffer) => { stderr += c.toString() })
      const [code] = await once(proc.child, 'exit') as [number]
      expect(code).toBe(2)
      const lines = stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(new RegExp(`^guild-router: invalid configuration: ${variable} `))
    } finally {
      await local.run()
    }
  })
})
