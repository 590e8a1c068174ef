import { createHash, randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { seededSnowflakes } from '../../../service/routing/snowflakes'
import type { StrategyName } from '../../../service/routing/strategies'
import { overlaps, readEntries, StatefulTier, WriteLedger, type StatefulPod } from '../../helpers/stateful-tier'
import { Cleanup, type RouterProcess } from '../../helpers/topology'
import { until } from '../../helpers/until'

/**
 * A guild's data moves with it, with real processes and real SQLite files:
 * writers POST entries through old and new routers side by side while the
 * gateways rescale, each pod's topology file changes at its own moment (the
 * leaving pods' last), and writes take time inside the gateway, so accepted
 * work spans every change. At the end every guild is read from its final
 * owner and checked against what the writers sent and were acknowledged, and
 * the gateways' logs of every request they ran are checked for two pods
 * running one guild at overlapping times.
 */
const cleanup = new Cleanup()
afterEach(async () => { await cleanup.run() })

const GUILDS = [...seededSnowflakes(40, 21n)]
const WRITERS = 6
/** Bounds every load loop: it also stops when the scenario is over. */
const MAX_WRITES = 8_000
/** A refused write is retried with a new request id, at most this often. */
const MAX_TRIES = 400

const seed = Number(process.env.HANDOFF_SEED ?? Date.now() % 100_000)
let state = seed
/** Seeded, so a failing order can be replayed with HANDOFF_SEED. */
const random = (): number => { state = (state * 1_103_515_245 + 12_345) % 2_147_483_648; return state / 2_147_483_648 }
const shuffled = <T>(list: T[]): T[] => list.map(x => [random(), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x)

interface Writers { stop: () => Promise<void>, ledger: WriteLedger }

/** Writers that POST entries through whichever routers are in `routers` now. */
function startWriters (routers: RouterProcess[], guilds: readonly string[] = GUILDS): Writers {
  const ledger = new WriteLedger()
  let running = true
  let n = 0
  const writer = async (w: number): Promise<void> => {
    while (running && ledger.sent.size < MAX_WRITES) {
      const guild = guilds[Math.floor(random() * guilds.length)]!
      for (let tries = 0; running && tries < MAX_TRIES; tries++) {
        const router = routers[(n++ + w) % routers.length]!
        const id = ledger.newId()
        const body = `writer ${w} entry ${n}`
        ledger.sent.set(id, { guild, sha256: createHash('sha256').update(body).digest('hex') })
        try {
          const res = await request(`${router.base}/guilds/${guild}/entries`, { method: 'POST', headers: { 'x-request-id': id, 'content-type': 'text/plain' }, body })
          const answer = await res.body.json() as { seq?: number, error?: string }
          ledger.count(res.statusCode === 201 ? '201' : `${res.statusCode} ${answer.error ?? '?'}`)
          if (res.statusCode === 201) {
            const acked = ledger.acked.get(guild) ?? new Map<string, number>()
            ledger.acked.set(guild, acked.set(id, answer.seq!))
            break
          }
        } catch (err) {
          ledger.count(`transport ${(err as { code?: string }).code ?? '?'}`)
        }
        await sleep(20)
      }
    }
  }
  const done = Promise.all(Array.from({ length: WRITERS }, async (_, w) => { await writer(w) }))
  return { ledger, stop: async () => { running = false; await done } }
}

async function rescale (tier: StatefulTier, routers: RouterProcess[], from: number, to: number): Promise<void> {
  const next = await tier.router(to)
  routers.push(next)
  const old = routers.shift()!
  routers.unshift(old) // the old router keeps sending by the old count until it is gone
  if (to > from) {
    // The StatefulSet adds the new pods with the new topology; kubelet then refreshes each old pod's mount at its own time.
    for (const pod of tier.pods.slice(from, to)) await tier.start(pod, to)
    for (const pod of shuffled(tier.pods.slice(0, from))) {
      await sleep(100 + random() * 300)
      tier.setTopology(pod, to)
    }
  } else {
    const leaving = tier.pods.slice(to, from)
    for (const pod of [...shuffled(tier.pods.slice(0, to)), ...leaving.reverse()]) {
      await sleep(100 + random() * 300)
      tier.setTopology(pod, to)
    }
    // What the program's handoff barrier waits for before it lets the StatefulSet shrink: every pod,
    // the leaving ones too, settled at the new count (so every one was clean at it, in one round).
    await tier.settledAt(tier.pods.slice(0, from), to, 90_000)
    for (const pod of leaving) await tier.stop(pod, 'SIGTERM', true)
  }
  await tier.settledAt(tier.pods.slice(0, to), to, 90_000)
  routers.splice(routers.indexOf(old), 1)
  await old.proc.stop('SIGTERM')
}

async function finalAudit (tier: StatefulTier, ledger: WriteLedger, count: number): Promise<string[]> {
  return await ledger.audit(GUILDS, async guild => {
    const owner = tier.pods[tier.owner(guild, count)]!
    const { status, body } = await readEntries(owner.url, guild)
    if (status !== 200) throw new Error(`guild ${guild} at pod ${owner.ordinal}: ${status} ${body.error ?? ''}`)
    return body.entries!
  })
}

function handoffLines (tier: StatefulTier, what: 'handoff sent' | 'handoff received'): number {
  return tier.pods.reduce((n, p) => n + (p.proc?.lines.filter(l => l.includes(`"msg":"${what}"`)).length ?? 0), 0)
}

const SCENARIOS: Array<[StrategyName, number[]]> = [
  ['jump', [3, 4, 3]], ['md5-mod', [3, 4, 3]], ['jump', [3, 5, 2]], ['md5-mod', [3, 5, 2]]
]

describe(`guild data moves with its guild (seed ${seed})`, () => {
  it.each(SCENARIOS)('%s %j under writes: every acknowledged entry ends once at its final owner, no two pods run one guild at once', async (strat, counts) => {
    const tier = await StatefulTier.create(cleanup, { strategy: strat, pods: Math.max(...counts), writeDelayMs: 15, listFreshnessMs: 200 })
    const first = counts[0]!
    for (const pod of tier.pods.slice(0, first)) await tier.start(pod, first)
    await tier.settledAt(tier.pods.slice(0, first), first)
    const routers = [await tier.router(first)]
    const writers = startWriters(routers)
    await sleep(400)
    for (let i = 1; i < counts.length; i++) await rescale(tier, routers, counts[i - 1]!, counts[i]!)
    // Enough acknowledged writes to matter, counted rather than timed: a busy machine writes fewer per second.
    await until('200 acknowledged writes', async () => [...writers.ledger.acked.values()].reduce((n, m) => n + m.size, 0) >= 200 ? true : undefined, 120_000)
    await writers.stop()

    const final = counts.at(-1)!
    const problems = await finalAudit(tier, writers.ledger, final)
    const found = overlaps(tier.intervals())
    const acked = [...writers.ledger.acked.values()].reduce((n, m) => n + m.size, 0)
    console.log(`${strat} ${counts.join('→')} seed ${seed}: ${writers.ledger.sent.size} sent, ${acked} acknowledged, ${handoffLines(tier, 'handoff sent')} guilds handed off, outcomes ${JSON.stringify(Object.fromEntries(writers.ledger.outcomes))}`)
    expect(problems).toEqual([])
    expect(found).toEqual([])
    // The run really moved data while writes ran.
    expect(handoffLines(tier, 'handoff sent')).toBeGreaterThan(0)
    // Whatever was not acknowledged got a code: refused, or possibly delivered (502, when a leaving pod
    // closed a kept-alive connection under a write; 504, a write still running at the deadline on a busy
    // machine, after the router waited for a moved guild), which the audit above covers: never stored twice.
    const allowed = new Set(['201', '421 not_owner', '421 ownership_pending', '503 gateway_unavailable', '502 bad_gateway', '504 gateway_timeout'])
    expect([...writers.ledger.outcomes.keys()].filter(k => !allowed.has(k))).toEqual([])
  }, 300_000)

  it.each(['jump', 'md5-mod'] as const)('%s 3 → 4, taken back to 3 while guilds are in transit: a guild on its way out is never served where it leaves, and nothing is lost', async strat => {
    const tier = await StatefulTier.create(cleanup, { strategy: strat, pods: 4, writeDelayMs: 15, listFreshnessMs: 200 })
    for (const pod of tier.pods.slice(0, 3)) await tier.start(pod, 3)
    await tier.settledAt(tier.pods.slice(0, 3), 3)
    const routers = [await tier.router(3), await tier.router(4)]
    const writers = startWriters(routers)
    await sleep(400)
    await tier.start(tier.pods[3]!, 4)
    for (const pod of shuffled(tier.pods.slice(0, 3))) {
      await sleep(50 + random() * 100)
      tier.setTopology(pod, 4)
    }
    // The rescale is reverted before it settles: some guilds are fenced for pod 3, some already there.
    await until('a first guild handed to pod 3', async () => handoffLines(tier, 'handoff sent') > 0 ? true : undefined, 30_000)
    for (const pod of shuffled(tier.pods)) tier.setTopology(pod, 3)
    await tier.settledAt(tier.pods, 3, 90_000)
    await tier.stop(tier.pods[3]!, 'SIGTERM', true)
    await writers.stop()
    const problems = await finalAudit(tier, writers.ledger, 3)
    const found = overlaps(tier.intervals())
    console.log(`${strat} 3→4→3 reverted seed ${seed}: ${writers.ledger.sent.size} sent, ${handoffLines(tier, 'handoff sent')} guilds handed off, outcomes ${JSON.stringify(Object.fromEntries(writers.ledger.outcomes))}`)
    expect(problems).toEqual([])
    expect(found).toEqual([])
  }, 300_000)

  it('a forced scale-down (a leaving pod stopped before it loads the new count) refuses that pod\'s guilds with a code until it is back, then loses nothing', async () => {
    const tier = await StatefulTier.create(cleanup, { strategy: 'jump', pods: 4, writeDelayMs: 5 })
    for (const pod of tier.pods) await tier.start(pod, 4)
    await tier.settledAt(tier.pods, 4)
    const routers = [await tier.router(4)]
    const writers = startWriters(routers)
    await until('every guild written at least once', async () => writers.ledger.acked.size === GUILDS.length ? true : undefined, 60_000)
    await writers.stop()
    const stranded = GUILDS.filter(g => tier.owner(g, 4) === 3)
    expect(stranded.length).toBeGreaterThan(0)

    // `kubectl scale --replicas=3`: pod 3 is gone before its mount ever says 3; its volume stays.
    const leaving = tier.pods[3]!
    await tier.stop(leaving, 'SIGKILL', true)
    for (const pod of tier.pods.slice(0, 3)) tier.setTopology(pod, 3)
    await until('survivors hold count 3', async () => (await Promise.all(tier.pods.slice(0, 3).map(async p => await tier.status(p)))).every(s => s.count === 3) ? true : undefined, 30_000)
    await sleep(1_000)
    for (const guild of stranded) {
      const { status, body } = await readEntries(tier.pods[tier.owner(guild, 3)]!.url, guild)
      expect(`${guild} ${status} ${body.error ?? ''}`).toBe(`${guild} 421 ownership_pending`)
    }
    const states = await Promise.all(tier.pods.slice(0, 3).map(async p => await tier.status(p)))
    expect(states.map(s => s.settled)).toEqual([false, false, false])

    // The pod comes back (scaled up again, same volume): it hands its guilds over.
    await tier.start(leaving, 3)
    await until('pod 3 handed everything off', async () => (await tier.status(leaving)).clean ? true : undefined, 60_000)
    // As the gateway-handoff Job does before the StatefulSet shrinks: every pod,
    // the leaving one included, has settled. A survivor that never heard pod 3
    // clean keeps its horizon at 4 and waits for it (CI once stopped it first).
    await tier.settledAt(tier.pods, 3)
    await tier.stop(leaving, 'SIGTERM', true)
    await tier.settledAt(tier.pods.slice(0, 3), 3)
    expect(await finalAudit(tier, writers.ledger, 3)).toEqual([])
  }, 180_000)
})

describe('faults during a handoff', () => {
  async function populated (strat: StrategyName): Promise<{ tier: StatefulTier, ledger: WriteLedger, routers: RouterProcess[] }> {
    const tier = await StatefulTier.create(cleanup, { strategy: strat, pods: 4 })
    for (const pod of tier.pods.slice(0, 3)) await tier.start(pod, 3)
    await tier.settledAt(tier.pods.slice(0, 3), 3)
    const routers = [await tier.router(3)]
    const writers = startWriters(routers)
    await until('every guild written at least 5 times', async () => GUILDS.every(g => (writers.ledger.acked.get(g)?.size ?? 0) >= 5) ? true : undefined, 90_000)
    await writers.stop()
    return { tier, ledger: writers.ledger, routers }
  }

  async function killAfter (tier: StatefulTier, pod: StatefulPod, line: string): Promise<void> {
    await until(`pod ${pod.ordinal} logs ${line}`, async () => pod.proc!.lines.some(l => l.includes(line)) ? true : undefined, 60_000)
    await tier.stop(pod, 'SIGKILL', false) // a crash: the pod restarts in place and stays listed
    await tier.start(pod)
  }

  it.each([
    ['the previous owner in the middle of its transfers: it resumes', 1, '"msg":"handoff sent"'],
    ['the new owner while it imports: the senders send again', 3, '"msg":"handoff received"']
  ] as const)('SIGKILL of %s, and every acknowledged entry arrives once', async (_who, ordinal, line) => {
    const { tier, ledger } = await populated('md5-mod')
    await tier.start(tier.pods[3]!, 4)
    for (const pod of tier.pods.slice(0, 3)) tier.setTopology(pod, 4)
    await killAfter(tier, tier.pods[ordinal]!, line)
    await tier.settledAt(tier.pods, 4)
    expect(await finalAudit(tier, ledger, 4)).toEqual([])
  }, 180_000)

  it('a leaving pod whose volume is lost: its guilds are refused with a code, never served empty, until the operator names one', async () => {
    const { tier } = await populated('jump')
    await tier.start(tier.pods[3]!, 4)
    for (const pod of tier.pods.slice(0, 3)) tier.setTopology(pod, 4)
    await tier.settledAt(tier.pods, 4)
    const lost = GUILDS.filter(g => tier.owner(g, 4) === 3)
    expect(lost.length).toBeGreaterThan(0)
    // Pod 3 and its volume are gone at once.
    await tier.stop(tier.pods[3]!, 'SIGKILL', true)
    rmSync(tier.pods[3]!.dataDir, { recursive: true, force: true })
    for (const pod of tier.pods.slice(0, 3)) tier.setTopology(pod, 3)
    await sleep(1_500)
    for (const guild of lost) {
      const { status, body } = await readEntries(tier.pods[tier.owner(guild, 3)]!.url, guild)
      expect(`${guild} ${status} ${body.error ?? ''}`).toBe(`${guild} 421 ownership_pending`)
    }
    // The operator's command, on the owner's peer port from inside the pod (loopback here).
    const guild = lost[0]!
    const owner = tier.pods[tier.owner(guild, 3)]!
    const res = await request(`${owner.peerUrl}/operator/guilds/${guild}/start-empty`, { method: 'POST' })
    expect(res.statusCode).toBe(200)
    await res.body.dump()
    expect(owner.proc!.lines.some(l => l.includes('"msg":"guild started empty by operator"') && l.includes(guild))).toBe(true)
    expect(await readEntries(owner.url, guild)).toEqual({ status: 200, body: { guildId: guild, entries: [] } })
    for (const other of lost.slice(1)) expect((await readEntries(tier.pods[tier.owner(other, 3)]!.url, other)).status).toBe(421)
  }, 180_000)
})

describe('who may move data', () => {
  it('peer and operator paths sent through the router get a coded refusal and change nothing', async () => {
    const tier = await StatefulTier.create(cleanup, { strategy: 'md5-mod', pods: 2 })
    for (const pod of tier.pods) await tier.start(pod, 2)
    await tier.settledAt(tier.pods, 2)
    const router = await tier.router(2)
    const guild = GUILDS[0]!
    for (let i = 0; i < 3; i++) {
      const res = await request(`${router.base}/guilds/${guild}/entries`, { method: 'POST', body: `e${i}` })
      expect(res.statusCode).toBe(201)
      await res.body.dump()
    }
    const owner = tier.pods[tier.owner(guild, 2)]!
    const before = await readEntries(owner.url, guild)
    const attempts: Array<[string, string]> = [
      ['PUT', `/handoff/guilds/${guild}`],
      ['POST', `/operator/guilds/${guild}/start-empty`],
      ['POST', `/operator/guilds/${GUILDS[1]!}/start-empty`],
      ['PUT', '/handoff/guilds/'],
      ['PUT', `/HANDOFF/guilds/${guild}`]
    ]
    for (const [method, path] of attempts) {
      for (const withGuild of [true, false]) {
        const res = await request(`${router.base}${path}`, {
          method,
          headers: { 'content-type': 'application/octet-stream', 'x-transfer-id': '00000000-0000-4000-8000-000000000000', 'x-content-sha256': '0'.repeat(64), ...(withGuild ? { 'x-guild-id': guild } : {}) },
          body: 'not a database'
        })
        const body = await res.body.json() as { error?: string }
        expect(`${method} ${path} ${withGuild}: ${res.statusCode}`).toMatch(/: 4\d\d$/)
        expect(typeof body.error).toBe('string')
      }
    }
    expect(await readEntries(owner.url, guild)).toEqual(before)
    expect((await readEntries(tier.pods[tier.owner(GUILDS[1]!, 2)]!.url, GUILDS[1]!)).body.entries).toEqual([])
    expect(tier.pods.flatMap(p => p.proc!.lines).filter(l => l.includes('started empty') || l.includes('handoff received'))).toEqual([])
  }, 60_000)
})

describe('a peer that cannot be reached', () => {
  async function healthz (pod: StatefulPod): Promise<number> {
    const res = await request(`${pod.url}/healthz`)
    await res.body.dump()
    return res.statusCode
  }
  const post = async (pod: StatefulPod, guild: string, body: string): Promise<Awaited<ReturnType<typeof request>>> =>
    await request(`${pod.url}/guilds/${guild}/entries`, { method: 'POST', headers: { 'x-request-id': randomUUID(), 'content-type': 'text/plain' }, body })
  const unwritten = (tier: StatefulTier, ordinal: number): string => [...seededSnowflakes(200, 77n)].find(g => tier.owner(g, 3) === ordinal)!

  it('a restarted gateway turns Ready and serves its own guilds, written or not, while another listed pod is silent', async () => {
    const tier = await StatefulTier.create(cleanup, { strategy: 'jump', pods: 3 })
    for (const pod of tier.pods) await tier.start(pod, 3)
    await tier.settledAt(tier.pods, 3)
    const [, one, two] = tier.pods as [StatefulPod, StatefulPod, StatefulPod]
    const written = GUILDS.find(g => tier.owner(g, 3) === 1)!
    expect((await post(one, written, 'before')).statusCode).toBe(201)
    // gateway-2's node is gone: still listed, never answers. gateway-1 restarts.
    await tier.stop(two, 'SIGKILL', false)
    await tier.stop(one, 'SIGKILL', false)
    await tier.start(one)
    await until('gateway-1 Ready', async () => await healthz(one) === 200 ? true : undefined, 30_000)
    expect((await readEntries(one.url, written)).body.entries?.length).toBe(1)
    const fresh = unwritten(tier, 1)
    const res = await post(one, fresh, 'first')
    expect([res.statusCode, (await res.body.json() as { seq?: number }).seq]).toEqual([201, 1])
    expect(await tier.status(one)).toMatchObject({ settled: true, ready: true })
  }, 90_000)

  it('but not after it loaded another topology since it settled: then a guild it does not hold waits for every peer', async () => {
    const tier = await StatefulTier.create(cleanup, { strategy: 'jump', pods: 3 })
    for (const pod of tier.pods) await tier.start(pod, 3)
    await tier.settledAt(tier.pods, 3)
    const [, one, two] = tier.pods as [StatefulPod, StatefulPod, StatefulPod]
    // 3 → 4 → 3 on gateway-1 alone: it may have handed guilds to a pod 3, which would have to send them back.
    tier.setTopology(one, 4)
    await until('gateway-1 at 4', async () => (await tier.status(one)).count === 4 ? true : undefined, 30_000)
    tier.setTopology(one, 3)
    await until('gateway-1 back at 3', async () => (await tier.status(one)).count === 3 ? true : undefined, 30_000)
    await tier.stop(two, 'SIGKILL', false)
    await tier.stop(one, 'SIGKILL', false)
    await tier.start(one)
    await until('gateway-1 Ready', async () => await healthz(one) === 200 ? true : undefined, 30_000)
    const res = await readEntries(one.url, unwritten(tier, 1))
    expect(`${res.status} ${res.body.error ?? ''}`).toBe('421 ownership_pending')
    expect((await tier.status(one)).settled).toBe(false)
  }, 90_000)
})

describe('a new owner that is not Ready yet', () => {
  it('the old owner keeps serving the guilds it holds for it, and hands them over only once it reports Ready', async () => {
    const tier = await StatefulTier.create(cleanup, { strategy: 'jump', pods: 4 })
    for (const pod of tier.pods.slice(0, 3)) await tier.start(pod, 3)
    await tier.settledAt(tier.pods.slice(0, 3), 3)
    const [zero, one, two, three] = tier.pods as [StatefulPod, StatefulPod, StatefulPod, StatefulPod]
    const moving = GUILDS.filter(g => tier.owner(g, 3) === 0 && tier.owner(g, 4) === 3)
    expect(moving.length).toBeGreaterThan(0)
    const write = async (guild: string, body: string): Promise<number> => {
      const res = await request(`${zero.url}/guilds/${guild}/entries`, { method: 'POST', headers: { 'x-request-id': randomUUID(), 'content-type': 'text/plain' }, body })
      await res.body.dump()
      return res.statusCode
    }
    for (const guild of moving) expect(await write(guild, 'before')).toBe(201)
    // gateway-3 starts at 4 and gateway-0 loads 4; gateway-1 and -2 still hold 3, so gateway-3 is not Ready.
    await tier.start(three, 4)
    tier.setTopology(zero, 4)
    await until('gateway-0 at 4', async () => (await tier.status(zero)).count === 4 ? true : undefined, 30_000)
    await sleep(1_000) // several rounds of gateway-0's sender
    expect((await tier.status(three)).ready).toBe(false)
    expect((await tier.status(zero)).handoff.sent.guilds).toBe(0)
    for (const guild of moving) expect(`${guild} ${await write(guild, 'while 3 is not Ready')}`).toBe(`${guild} 201`)
    // Once every pod holds 4, gateway-3 is Ready and receives them, entries and all.
    for (const pod of [one, two]) tier.setTopology(pod, 4)
    await tier.settledAt(tier.pods, 4)
    for (const guild of moving) {
      const { status, body } = await readEntries(three.url, guild)
      expect(`${guild} ${status} ${body.entries?.length ?? body.error ?? ''}`).toBe(`${guild} 200 2`)
    }
    expect(overlaps(tier.intervals())).toEqual([])
  }, 120_000)
})
