import { once } from 'node:events'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { endpointSlicePeers, watchTopology } from '../../../service/gateway/kube-sources'
import type { KubeApi } from '../../../service/gateway/kube-watch'
import { until } from '../../helpers/until'

/**
 * The list-then-watch client against a scripted API server: the protocol's
 * moves (a list's resourceVersion, events, a bookmark, a stream that ends, a
 * 410 Gone) are played in order and every request the client makes is
 * recorded. A real API server runs in the real-node tier, where the gateways
 * follow their ConfigMap and EndpointSlices through it.
 */
type Step = (res: ServerResponse) => void
const closers: Array<() => Promise<void>> = []
afterEach(async () => { for (const close of closers.splice(0)) await close() })

async function scriptedApi (steps: Step[]): Promise<{ api: KubeApi, seen: string[] }> {
  const seen: string[] = []
  let token = 0
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    seen.push(`${url.searchParams.get('watch') === '1' ? `watch from ${url.searchParams.get('resourceVersion')}` : 'list'} ${req.headers.authorization ?? ''}`)
    const step = steps.shift()
    if (step === undefined) { req.socket.setTimeout(0); return } // hold the last watch open
    step(res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const dispatcher = new Agent()
  const api: KubeApi = { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, namespace: 'ns', token: () => `t${++token}`, dispatcher }
  closers.push(async () => { server.closeAllConnections(); server.close(); await dispatcher.close() })
  return { api, seen }
}

const json = (body: unknown, status = 200): Step => res => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)) }
const events = (...lines: unknown[]): Step => res => {
  res.writeHead(200, { 'content-type': 'application/json' })
  // Split mid-line, as a real stream may be.
  const text = lines.map(l => JSON.stringify(l)).join('\n') + '\n'
  res.write(text.slice(0, 17))
  setTimeout(() => res.end(text.slice(17)), 20)
}
const configMap = (rv: string, count: number) => ({ metadata: { name: 'gateway-topology', resourceVersion: rv }, data: { 'topology.json': `{"strategy":"jump","count":${count}}` } })

describe('watching the topology ConfigMap', () => {
  it('lists, follows events and bookmarks, resumes a closed stream where it left off, and lists again after 410 Gone', async () => {
    const { api, seen } = await scriptedApi([
      json({ metadata: { resourceVersion: '10' }, items: [configMap('9', 3)] }),
      events({ type: 'MODIFIED', object: configMap('11', 4) }, { type: 'BOOKMARK', object: { metadata: { name: '', resourceVersion: '12' } } }),
      events({ type: 'ERROR', object: { kind: 'Status', code: 410, metadata: { name: '' } } }),
      json({ metadata: { resourceVersion: '20' }, items: [configMap('19', 5)] })
    ])
    const topology = watchTopology(api, 'gateway-topology', 'topology.json')
    closers.push(async () => { topology.close() })
    await topology.first
    await until('count 5', async () => topology.latest()?.includes('"count":5') === true ? true : undefined, 10_000)
    await until('the last watch', async () => seen.length === 5 ? true : undefined, 10_000)
    expect(seen).toEqual(['list Bearer t1', 'watch from 10 Bearer t2', 'watch from 12 Bearer t3', 'list Bearer t4', 'watch from 20 Bearer t5'])
  })

  it('keeps the topology it has when the ConfigMap loses its key or is deleted', async () => {
    const { api } = await scriptedApi([
      json({ metadata: { resourceVersion: '1' }, items: [configMap('1', 3)] }),
      events({ type: 'MODIFIED', object: { metadata: { name: 'gateway-topology', resourceVersion: '2' }, data: {} } },
        { type: 'DELETED', object: configMap('3', 3) })
    ])
    const topology = watchTopology(api, 'gateway-topology', 'topology.json')
    closers.push(async () => { topology.close() })
    await topology.first
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(topology.latest()).toBe('{"strategy":"jump","count":3}')
  })
})

describe('peers from EndpointSlices', () => {
  const slice = (name: string, ...addresses: string[][]) => ({ metadata: { name, resourceVersion: '1' }, endpoints: addresses.map(a => ({ addresses: a })) })

  it('lists every address of every slice, follows a deletion, and refuses to answer while the watch is down', async () => {
    let release: () => void = () => {}
    const released = new Promise<void>(resolve => { release = resolve })
    let refuse: () => void = () => {}
    const refused = new Promise<void>(resolve => { refuse = resolve })
    const { api } = await scriptedApi([
      json({ metadata: { resourceVersion: '5' }, items: [slice('a', ['10.0.0.2'], ['10.0.0.1']), slice('b', ['fd00::3'])] }),
      res => { void released.then(() => events({ type: 'DELETED', object: slice('b') })(res)) },
      res => { void refused.then(() => json({ message: 'forbidden' }, 403)(res)) }
    ])
    const peers = endpointSlicePeers(api, 'gateway-peers', 3001)
    closers.push(async () => { peers.close() })
    await until('listed', async () => { try { return (await peers()).length === 3 ? true : undefined } catch { return undefined } }, 10_000)
    expect(await peers()).toEqual(['http://10.0.0.1:3001', 'http://10.0.0.2:3001', 'http://[fd00::3]:3001'])
    // The slice is deleted, then the next watch is refused: the directory fails rather than answer from a stale cache.
    release()
    await until('the deletion', async () => (await peers()).length === 2 ? true : undefined, 10_000)
    expect(await peers()).toEqual(['http://10.0.0.1:3001', 'http://10.0.0.2:3001'])
    refuse()
    await until('the watch to fail', async () => { try { await peers(); return undefined } catch (err) { return (err as Error).message } }, 10_000)
    await expect(peers()).rejects.toThrow('EndpointSlices of gateway-peers: watch not connected')
  })
})
