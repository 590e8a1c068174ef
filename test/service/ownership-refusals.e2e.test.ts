import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { stablePort } from '../../dev/stable-port'
import { guildOwnedBy } from '../helpers/guilds'
import { Cleanup, closedPortUrl, scriptedGateway, startRouterProcess, type RouterProcess } from '../helpers/topology'
import { strategy } from '../../service/routing/strategies'

/**
 * What a router does with a gateway's 421 during a rescale (refusal-policy.ts),
 * against scripted gateways that log every request they get: a not_owner is
 * followed once to the owner it names, a pending owner is asked again inside
 * the deadline, and nothing is sent where it could be run twice.
 */
type Script = (req: IncomingMessage, res: ServerResponse, body: string) => void
interface Seen { readonly pod: number, readonly method: string, readonly body: string }

const cleanup = new Cleanup()
const seen: Seen[] = []
let scripts: Script[] = []
const guild = guildOwnedBy(0, 2)

function refuse (res: ServerResponse, refusal: 'not_owner' | 'ownership_pending', owner?: number, count?: number): void {
  const text = JSON.stringify({ error: refusal, message: `scripted ${refusal}` })
  res.writeHead(421, {
    'content-type': 'application/json', 'retry-after': '1', 'x-gateway-refusal': refusal,
    ...(owner === undefined ? {} : { 'x-gateway-owner': String(owner) }),
    ...(count === undefined ? {} : { 'x-gateway-topology-count': String(count) })
  }).end(text)
}
const created: Script = (_req, res, body) => { res.writeHead(201, { 'content-type': 'text/plain' }).end(`stored ${body}`) }

function logged (pod: number) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString()
      seen.push({ pod, method: req.method ?? '', body })
      const script = scripts[pod]
      if (script === undefined) res.writeHead(500).end()
      else script(req, res, body)
    })
  }
}
const hits = (pod: number): number => seen.filter(s => s.pod === pod).length

async function metric (admin: string, line: string): Promise<number> {
  const text = await (await request(`${admin}/metrics`)).body.text()
  const found = text.split('\n').find(l => l.startsWith(`${line} `))
  return found === undefined ? 0 : Number(found.split(' ')[1])
}

let listed: RouterProcess
let templated: RouterProcess
let templatePort = 0
let shrunk: RouterProcess
let shrunkUrls: string[] = []

beforeAll(async () => {
  const a = await scriptedGateway(cleanup, logged(0))
  const b = await scriptedGateway(cleanup, logged(1))
  listed = await startRouterProcess(cleanup, {
    NUM_GATEWAY_PODS: '2', GATEWAY_URLS: `${a.url},${b.url}`, REQUEST_DEADLINE_MS: '1000', OWNERSHIP_RETRY_MS: '100', RETRY_BUFFER_BYTES: '1024'
  })
  // A router that still counts one pod while the gateways count two (an old
  // router during a scale-up): pod 1 is reachable only through the template.
  // Each ordinal has its own loopback address, as each pod has its own name.
  const port = await stablePort(['127.0.0.1', '127.0.1.1', '127.0.2.1'], 0)
  templatePort = port
  for (const [pod, host] of [[0, '127.0.0.1'], [1, '127.0.1.1']] as const) {
    const server = createServer(logged(pod))
    server.listen(port, host)
    await once(server, 'listening')
    cleanup.add(async () => { server.closeAllConnections(); server.close() })
  }
  // A router that still counts three pods after the gateways went to two: pod 2 is gone.
  shrunkUrls = [a.url, b.url, await closedPortUrl()]
  shrunk = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '3', GATEWAY_URLS: shrunkUrls.join(',') })
  templated = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '1', GATEWAY_URL_TEMPLATE: `http://127.0.{ordinal}.1:${port}` })
})
afterAll(() => cleanup.run())
beforeEach(() => { seen.length = 0 })

describe('a gateway\'s 421 during a rescale', () => {
  it('not_owner naming another pod: the POST is followed there once and stored once', async () => {
    scripts = [(_q, res) => refuse(res, 'not_owner', 1), created]
    const res = await request(`${listed.base}/guilds/${guild}/entries`, { method: 'POST', body: 'entry-1' })
    expect([res.statusCode, res.headers['x-gateway-pod'], await res.body.text()]).toEqual([201, '1', 'stored entry-1'])
    expect(seen).toEqual([{ pod: 0, method: 'POST', body: 'entry-1' }, { pod: 1, method: 'POST', body: 'entry-1' }])
    expect(await metric(listed.admin, 'guild_router_ownership_refusals_total{gateway="0",action="redirect"}')).toBe(1)
  })

  it('two gateways that name each other: the second not_owner goes to the client, with its code', async () => {
    scripts = [(_q, res) => refuse(res, 'not_owner', 1), (_q, res) => refuse(res, 'not_owner', 0)]
    const res = await request(`${listed.base}/guilds/${guild}/entries`, { method: 'POST', body: 'entry-2' })
    expect([res.statusCode, res.headers['x-gateway-pod'], res.headers['x-gateway-refusal']]).toEqual([421, '1', 'not_owner'])
    expect((await res.body.json() as { error: string }).error).toBe('not_owner')
    expect([hits(0), hits(1)]).toEqual([1, 1])
    expect(await metric(listed.admin, 'guild_router_ownership_refusals_total{gateway="1",action="pass"}')).toBe(1)
  })

  it('ownership_pending: the router asks again until the data is there, and the client gets the answer', async () => {
    let refusals = 2
    scripts = [(req, res, body) => { if (refusals-- > 0) refuse(res, 'ownership_pending'); else created(req, res, body) }, created]
    const res = await request(`${listed.base}/guilds/${guild}/entries`, { method: 'POST', body: 'entry-3' })
    expect([res.statusCode, await res.body.text()]).toEqual([201, 'stored entry-3'])
    expect(seen.map(s => s.pod)).toEqual([0, 0, 0])
  })

  it('ownership_pending past the deadline: the client gets the 421 and its Retry-After, after a bounded number of asks', async () => {
    scripts = [(_q, res) => refuse(res, 'ownership_pending'), created]
    const res = await request(`${listed.base}/guilds/${guild}/entries`, { method: 'POST', body: 'entry-4' })
    expect([res.statusCode, res.headers['retry-after'], res.headers['x-gateway-refusal']]).toEqual([421, '1', 'ownership_pending'])
    await res.body.dump()
    // A 1,000 ms deadline, a wait of 100 ms while 600 ms remain: at most 6 asks.
    expect(hits(0)).toBeGreaterThanOrEqual(2)
    expect(hits(0)).toBeLessThanOrEqual(6)
    expect(hits(1)).toBe(0)
  })

  it('a body too large to replay: the 421 goes to the client and nothing is sent anywhere else', async () => {
    scripts = [(_q, res) => refuse(res, 'not_owner', 1), created]
    const body = 'x'.repeat(4096) // over RETRY_BUFFER_BYTES, streamed
    const res = await request(`${listed.base}/guilds/${guild}/entries`, { method: 'POST', body })
    expect([res.statusCode, res.headers['x-gateway-refusal']]).toEqual([421, 'not_owner'])
    await res.body.dump()
    expect([hits(0), hits(1)]).toEqual([1, 0])
  })

  it('an old router follows a not_owner to a pod past its own count, through its URL template', async () => {
    scripts = [(_q, res) => refuse(res, 'not_owner', 1), created]
    const res = await request(`${templated.base}/guilds/${guild}/entries`, { method: 'POST', body: 'entry-5' })
    expect([res.statusCode, res.headers['x-gateway-pod'], await res.body.text()]).toEqual([201, '1', 'stored entry-5'])
    expect(seen.map(s => s.pod)).toEqual([0, 1])
  })

  it('an owner it names that cannot be reached yet (a new pod not yet Ready) is waited for inside the deadline', async () => {
    scripts = [(_q, res) => refuse(res, 'not_owner', 2), created, created]
    const pending = request(`${templated.base}/guilds/${guild}/entries`, { method: 'POST', body: 'entry-7' })
    await new Promise(resolve => setTimeout(resolve, 300))
    const late = createServer(logged(2))
    late.listen(templatePort, '127.0.2.1')
    await once(late, 'listening')
    cleanup.add(async () => { late.closeAllConnections(); late.close() })
    const res = await pending
    expect([res.statusCode, res.headers['x-gateway-pod'], await res.body.text()]).toEqual([201, '2', 'stored entry-7'])
    expect(seen.map(s => s.pod)).toEqual([0, 2])
  })

  it('after a scale-down, an old router sends a removed pod\'s guilds to their owner under the count a gateway\'s 421 reported', async () => {
    const gone = guildOwnedBy(2, 3)
    const owner = strategy('md5-mod').pick(gone, 2)
    scripts = [created, created]
    // Before it has heard the gateways' count: the removed pod's guilds fail closed.
    const before = await request(`${shrunk.base}/guilds/${gone}/entries`, { method: 'POST', body: 'entry-8' })
    expect([before.statusCode, (await before.body.json() as { error: string }).error]).toEqual([503, 'gateway_unavailable'])
    expect(seen).toEqual([])
    // A 421 from any gateway carries its count (here pod 0 refusing a guild it gave away).
    scripts = [(_q, res) => refuse(res, 'not_owner', 1, 2), created]
    const taught = await request(`${shrunk.base}/guilds/${guildOwnedBy(0, 3)}/entries`, { method: 'POST', body: 'teach' })
    await taught.body.dump()
    seen.length = 0
    scripts = [created, created]
    const res = await request(`${shrunk.base}/guilds/${gone}/entries`, { method: 'POST', body: 'entry-9' })
    expect([res.statusCode, res.headers['x-gateway-pod'], await res.body.text()]).toEqual([201, String(owner), 'stored entry-9'])
    expect(seen).toEqual([{ pod: owner, method: 'POST', body: 'entry-9' }])

    // Taught before it ever failed to reach pod 2 (not ejected yet): the first refused connection reroutes.
    const fresh = await startRouterProcess(cleanup, { NUM_GATEWAY_PODS: '3', GATEWAY_URLS: `${shrunkUrls.join(',')}` })
    scripts = [(_q, res) => refuse(res, 'not_owner', 1, 2), created]
    await (await request(`${fresh.base}/guilds/${guildOwnedBy(0, 3)}/entries`, { method: 'POST', body: 'teach' })).body.dump()
    seen.length = 0
    scripts = [created, created]
    const first = await request(`${fresh.base}/guilds/${gone}/entries`, { method: 'POST', body: 'entry-10' })
    expect([first.statusCode, first.headers['x-gateway-pod']]).toEqual([201, String(owner)])
    await first.body.dump()
    expect(seen).toEqual([{ pod: owner, method: 'POST', body: 'entry-10' }])
  })

  it('but not to an ordinal further out than a rescale could add', async () => {
    scripts = [(_q, res) => refuse(res, 'not_owner', 65), created]
    const res = await request(`${templated.base}/guilds/${guild}/entries`, { method: 'POST', body: 'entry-6' })
    expect([res.statusCode, res.headers['x-gateway-refusal']]).toEqual([421, 'not_owner'])
    await res.body.dump()
    expect(seen.map(s => s.pod)).toEqual([0])
  })
})
