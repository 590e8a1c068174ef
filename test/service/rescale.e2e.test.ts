import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import type { NodeProcess } from '../../dev/processes'
import { seededSnowflakes } from '../../service/routing/snowflakes'
import { strategy, type StrategyName } from '../../service/routing/strategies'
import { Cleanup, closedPortUrl, startGateway, startRouterProcess } from '../helpers/topology'
import { until } from '../helpers/until'

/**
 * Single ownership across a rescale, with real processes: gateways follow
 * their own topology file (each pod's ConfigMap mount refreshes on its own
 * schedule), a peers file stands in for the `gateway-peers` Service (a pod is
 * listed before it starts and until it has exited), and routers with the old
 * and the new count send traffic side by side. Every guild request a gateway
 * accepts is recorded as (guild, pod, time); no guild may be accepted by two
 * pods in overlapping time.
 */
const cleanup = new Cleanup()
afterEach(async () => { await cleanup.run() })

const GUILDS = [...seededSnowflakes(48, 15n)]
const MAX_REQUESTS = 6_000
const CLIENTS = 6

interface Pod { readonly ordinal: number, readonly url: string, readonly topologyFile: string, proc?: NodeProcess }

const SCENARIOS: Array<[StrategyName, number, number]> = [
  ['jump', 3, 4], ['jump', 4, 3], ['jump', 3, 5],
  ['md5-mod', 3, 4], ['md5-mod', 4, 3], ['md5-mod', 3, 5]
]

describe('rescaling gateways under load, old and new routers side by side', () => {
  it.each(SCENARIOS)('%s %i → %i: no guild is accepted by two pods at once, and every guild ends at its new owner', async (strat, from, to) => {
    const dir = mkdtempSync(join(tmpdir(), 'guild-router-rescale-'))
    cleanup.add(async () => { rmSync(dir, { recursive: true, force: true }) })
    const peersFile = join(dir, 'peers')
    const acceptLog = join(dir, 'accepted')
    writeFileSync(peersFile, '')
    writeFileSync(acceptLog, '')
    const topology = (count: number): string => JSON.stringify({ strategy: strat, count })

    const pods: Pod[] = []
    for (let ordinal = 0; ordinal < Math.max(from, to); ordinal++) {
      pods.push({ ordinal, url: await closedPortUrl(), topologyFile: join(dir, `topology-${ordinal}.json`) })
    }
    const listed = new Set<string>()
    const writePeers = (): void => { writeFileSync(peersFile, [...listed].join('\n')) }
    const start = async (pod: Pod, count: number): Promise<void> => {
      writeFileSync(pod.topologyFile, topology(count))
      listed.add(pod.url) // listed before it starts, as a pod is before its container runs
      writePeers()
      pod.proc = startGateway(cleanup, pod.ordinal, {
        PORT: new URL(pod.url).port, TOPOLOGY_FILE: pod.topologyFile, PEERS_FILE: peersFile, TOPOLOGY_POLL_MS: '40', ACCEPT_LOG: acceptLog
      })
      await pod.proc.listening
    }
    const stop = async (pod: Pod): Promise<void> => {
      await pod.proc?.stop('SIGTERM')
      listed.delete(pod.url) // unlisted only once it has exited
      writePeers()
    }
    const status = async (pod: Pod): Promise<{ settled: boolean, count: number }> => {
      const res = await request(`${pod.url}/topology`)
      return await res.body.json() as { settled: boolean, count: number }
    }

    for (const pod of pods.slice(0, from)) await start(pod, from)
    await until('gateways settled at the old count', async () => (await Promise.all(pods.slice(0, from).map(status))).every(s => s.settled) ? true : undefined, 30_000)

    // A scale-up: the StatefulSet adds the new pods, which start with the new
    // topology (and, until the old pods hold it too, take none of their guilds).
    for (const pod of pods.slice(from, to)) await start(pod, to)

    const routerEnv = (count: number): Record<string, string> => ({
      NUM_GATEWAY_PODS: String(count), ROUTING_STRATEGY: strat, GATEWAY_URLS: pods.slice(0, count).map(p => p.url).join(',')
    })
    const [oldRouter, newRouter] = await Promise.all([startRouterProcess(cleanup, routerEnv(from)), startRouterProcess(cleanup, routerEnv(to))])

    // Load through both routers until the rescale is over, bounded in requests.
    const outcomes = new Map<string, number>()
    let sent = 0
    let rescaling = true
    const client = async (n: number): Promise<void> => {
      while (rescaling && sent < MAX_REQUESTS) {
        // Each guild goes through both routers: the choice must not follow from the guild index.
        const base = (Math.floor(sent / 5) + n) % 2 === 0 ? oldRouter.base : newRouter.base
        const guild = GUILDS[(sent * 7 + n) % GUILDS.length]
        sent++
        const res = await request(`${base}/guilds/${guild}`)
        const body = await res.body.json() as { error?: string }
        const key = res.statusCode === 200 ? '200' : `${res.statusCode} ${body.error ?? '?'}`
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
      }
    }
    const load = Promise.all(Array.from({ length: CLIENTS }, async (_, n) => { await client(n) }))
    await sleep(150)

    if (to > from) {
      // kubelet refreshes each old pod's mount at its own time.
      for (const pod of pods.slice(0, from).reverse()) {
        await sleep(300)
        writeFileSync(pod.topologyFile, topology(to))
      }
    } else {
      // The ConfigMap changes; one leaving pod sees it before it is stopped, the other does not.
      writeFileSync(pods[from - 1]!.topologyFile, topology(to))
      for (const pod of pods.slice(0, to)) {
        await sleep(300)
        writeFileSync(pod.topologyFile, topology(to))
      }
      for (const pod of pods.slice(to, from).reverse()) await stop(pod)
    }
    const survivors = pods.slice(0, to)
    await until('every gateway settled at the new count', async () => (await Promise.all(survivors.map(status))).every(s => s.settled && s.count === to) ? true : undefined, 60_000)
    await sleep(150)
    rescaling = false
    await load

    // Afterwards every guild is served by its new owner through the new router
    // (once the router's ejection of a pod that was not yet listening has run out).
    const pick = strategy(strat).pick
    const finalPass = async (): Promise<string[]> => {
      const wrong: string[] = []
      for (const guild of GUILDS) {
        const res = await request(`${newRouter.base}/guilds/${guild}`)
        await res.body.dump()
        if (res.statusCode !== 200 || res.headers['x-gateway-pod'] !== String(pick(guild, to))) wrong.push(`${guild}: ${res.statusCode} from ${String(res.headers['x-gateway-pod'])}`)
      }
      return wrong
    }
    await until('every guild served by its new owner', async () => (await finalPass()).length === 0 ? true : undefined, 30_000)

    const accepted = readFileSync(acceptLog, 'utf8').trim().split('\n').map(line => {
      const [guild = '', pod, at] = line.split(' ')
      return { guild, pod: Number(pod), at: Number(at) }
    })
    const spans = new Map<string, Map<number, { first: number, last: number }>>()
    for (const a of accepted) {
      // Only ever the owner under one of the two topologies.
      expect([pick(a.guild, from), pick(a.guild, to)]).toContain(a.pod)
      const byPod = spans.get(a.guild) ?? new Map<number, { first: number, last: number }>()
      spans.set(a.guild, byPod)
      const span = byPod.get(a.pod)
      if (span === undefined) byPod.set(a.pod, { first: a.at, last: a.at })
      else { span.first = Math.min(span.first, a.at); span.last = Math.max(span.last, a.at) }
    }
    const overlaps: string[] = []
    let handedOver = 0
    for (const [guild, byPod] of spans) {
      const list = [...byPod.entries()].sort(([, x], [, y]) => x.first - y.first)
      if (list.length > 1) handedOver++
      for (let i = 1; i < list.length; i++) {
        const [prevPod, prev] = list[i - 1]!
        const [pod, span] = list[i]!
        if (span.first <= prev.last) overlaps.push(`${guild}: pod ${prevPod} until ${prev.last}, pod ${pod} from ${span.first}`)
      }
    }
    const report = Object.fromEntries(outcomes)
    console.log(`${strat} ${from}→${to}: ${accepted.length} accepted, ${handedOver} guilds handed over, outcomes ${JSON.stringify(report)}`)
    expect(overlaps).toEqual([])
    // The rescale really moved guilds while traffic ran: some were accepted by their old owner, then their new one.
    expect(handedOver).toBeGreaterThan(0)
    // Every request that was not served was refused with a code: nothing half-done.
    const allowed = new Set(['200', '421 not_owner', '421 ownership_pending', '503 gateway_unavailable'])
    expect(Object.keys(report).filter(k => !allowed.has(k))).toEqual([])
  })
})
