import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import type { NodeProcess } from '../../dev/processes'
import type { OwnershipStatus } from '../../service/gateway/gateway-ownership'
import type { Entry } from '../../service/gateway/guild-entries'
import { strategy, type StrategyName } from '../../service/routing/strategies'
export { WriteLedger } from './write-ledger'
import { STRIPES, stablePort } from '../../dev/stable-port'
import { Cleanup, startGateway, startRouterProcess, type RouterProcess } from './topology'
import { until } from './until'

export interface StatefulPod {
  readonly ordinal: number
  /** The client port, which routers dial. */
  readonly url: string
  /** The peer port: topology, handoffs, operator commands. */
  readonly peerUrl: string
  readonly dataDir: string
  readonly topologyFile: string
  proc?: NodeProcess
  /** GET /metrics, once started (any free port). */
  metricsUrl?: string
}

export interface TierOptions {
  readonly strategy: StrategyName
  readonly pods: number
  readonly writeDelayMs?: number
  readonly listFreshnessMs?: number
}

/**
 * Stateful reference gateways on loopback, wired as the StatefulSet wires
 * them: each has its own data directory (its volume), its own topology file
 * (its ConfigMap mount, refreshed at its own moment), a client port and a
 * peer port, and a peers file stands in for the `gateway-peers` Service (a pod
 * is listed before it starts and until it has exited). Every guild request a
 * gateway runs is logged as (guild, pod, start, end).
 */
export class StatefulTier {
  readonly dir: string
  readonly pods: StatefulPod[] = []
  readonly intervalLog: string
  readonly #peersFile: string
  readonly #listed = new Set<string>()
  readonly #cleanup: Cleanup
  readonly #opts: TierOptions
  #template = ''

  private constructor (cleanup: Cleanup, opts: TierOptions) {
    this.#cleanup = cleanup
    this.#opts = opts
    this.dir = mkdtempSync(join(tmpdir(), 'guild-router-tier-'))
    cleanup.add(async () => { rmSync(this.dir, { recursive: true, force: true }) })
    this.#peersFile = join(this.dir, 'peers')
    this.intervalLog = join(this.dir, 'intervals')
    writeFileSync(this.#peersFile, '')
    writeFileSync(this.intervalLog, '')
  }

  static async create (cleanup: Cleanup, opts: TierOptions): Promise<StatefulTier> {
    const tier = new StatefulTier(cleanup, opts)
    // Pod n listens on 127.0.n.1, one client port and one peer port for all,
    // as pod n has a name of its own: a router reaches a pod past its count
    // through GATEWAY_URL_TEMPLATE, as in a cluster.
    const hosts = Array.from({ length: opts.pods }, (_, n) => podHost(n))
    const port = await stablePort(hosts, stripe())
    const peerPort = await stablePort(hosts, stripe())
    tier.#template = `http://127.0.{ordinal}.1:${port}`
    for (let ordinal = 0; ordinal < opts.pods; ordinal++) {
      const dataDir = join(tier.dir, `data-${ordinal}`)
      mkdirSync(dataDir)
      tier.pods.push({ ordinal, url: `http://${podHost(ordinal)}:${port}`, peerUrl: `http://${podHost(ordinal)}:${peerPort}`, dataDir, topologyFile: join(tier.dir, `topology-${ordinal}.json`) })
    }
    return tier
  }

  owner (guildId: string, count: number): number { return strategy(this.#opts.strategy).pick(guildId, count) }

  setTopology (pod: StatefulPod, count: number): void {
    writeFileSync(pod.topologyFile, JSON.stringify({ strategy: this.#opts.strategy, count }))
  }

  #writePeers (): void { writeFileSync(this.#peersFile, [...this.#listed].join('\n')) }

  async start (pod: StatefulPod, count?: number): Promise<void> {
    if (count !== undefined) this.setTopology(pod, count)
    this.#listed.add(pod.peerUrl) // listed before it starts, as a pod is before its container runs
    this.#writePeers()
    pod.proc = startGateway(this.#cleanup, pod.ordinal, {
      HOST: podHost(pod.ordinal),
      PORT: new URL(pod.url).port,
      PEER_PORT: new URL(pod.peerUrl).port,
      DATA_DIR: pod.dataDir,
      TOPOLOGY_FILE: pod.topologyFile,
      PEERS_FILE: this.#peersFile,
      TOPOLOGY_POLL_MS: '40',
      TOPOLOGY_LIST_FRESHNESS_MS: String(this.#opts.listFreshnessMs ?? 200),
      WRITE_DELAY_MS: String(this.#opts.writeDelayMs ?? 0),
      INTERVAL_LOG: this.intervalLog,
      METRICS_PORT: '0'
    })
    pod.metricsUrl = `http://${podHost(pod.ordinal)}:${String((await pod.proc.listening).metricsPort)}/metrics`
  }

  /** Stops the process; `unlist` as the pod object goes away (a scale-down), not on a crash that restarts in place. */
  async stop (pod: StatefulPod, signal: NodeJS.Signals, unlist: boolean): Promise<void> {
    await pod.proc?.stop(signal)
    if (unlist) {
      this.#listed.delete(pod.peerUrl)
      this.#writePeers()
    }
  }

  async status (pod: StatefulPod): Promise<OwnershipStatus> {
    const res = await request(`${pod.peerUrl}/topology`, { headersTimeout: 2000, bodyTimeout: 2000 })
    return await res.body.json() as OwnershipStatus
  }

  /** Every listed pod holds `count`, is clean, and has settled. */
  async settledAt (pods: StatefulPod[], count: number, ms = 60_000): Promise<void> {
    await until(`gateways ${pods.map(p => p.ordinal).join(',')} settled at ${count}`, async () => {
      const all = await Promise.all(pods.map(async p => await this.status(p)))
      return all.every(s => s.settled && s.clean && s.count === count) ? true : undefined
    }, ms)
  }

  async router (count: number): Promise<RouterProcess> {
    return await startRouterProcess(this.#cleanup, {
      NUM_GATEWAY_PODS: String(count),
      ROUTING_STRATEGY: this.#opts.strategy,
      GATEWAY_URL_TEMPLATE: this.#template
    })
  }

  intervals (): Array<{ guild: string, pod: number, start: number, end: number }> {
    return readFileSync(this.intervalLog, 'utf8').split('\n').filter(l => l !== '').map(line => {
      const [guild = '', pod, start, end] = line.split(' ')
      return { guild, pod: Number(pod), start: Number(start), end: Number(end) }
    })
  }
}

function podHost (ordinal: number): string { return `127.0.${ordinal}.1` }

/**
 * A pod keeps its address across restarts and a later scale-up, so its ports
 * come from outside the ephemeral range; each vitest worker takes the lower
 * half's stripe of its pool id (`npm start` children take the upper half).
 */
function stripe (): number { return Number(process.env.VITEST_POOL_ID ?? 0) % (STRIPES / 2) }

export async function readEntries (base: string, guildId: string): Promise<{ status: number, body: { entries?: Entry[], error?: string } }> {
  const res = await request(`${base}/guilds/${guildId}/entries`, { headers: { 'x-guild-id': guildId } })
  return { status: res.statusCode, body: await res.body.json() as { entries?: Entry[], error?: string } }
}

/** Pairs of intervals in which two different pods ran requests for one guild at the same time. */
export function overlaps (intervals: Array<{ guild: string, pod: number, start: number, end: number }>): string[] {
  const byGuild = new Map<string, typeof intervals>()
  for (const i of intervals) byGuild.set(i.guild, [...(byGuild.get(i.guild) ?? []), i])
  const found: string[] = []
  for (const [guild, list] of byGuild) {
    list.sort((a, b) => a.start - b.start)
    // Sweep: the latest end seen so far, and whose it was.
    let last = list[0]!
    for (const cur of list.slice(1)) {
      if (cur.pod !== last.pod && cur.start < last.end) found.push(`${guild}: pod ${last.pod} ran until ${last.end.toFixed(1)}, pod ${cur.pod} from ${cur.start.toFixed(1)}`)
      if (cur.end > last.end) last = cur
    }
  }
  return found
}
