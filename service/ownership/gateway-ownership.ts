import { readFileSync } from 'node:fs'
import type { GuildId } from '../routing/guild-id'
import { OwnershipGate, type Decision } from './ownership-gate'
import { peerRound, type PeerDirectory } from './peers'
import { parseTopology, type Topology } from './topology'

export type TopologySource =
  /** A file kubelet keeps current: `topology.json` in a ConfigMap mounted as a directory (not with subPath, which never refreshes). */
  | { readonly file: string }
  /** A topology fixed for the life of the process, as with NUM_GATEWAY_PODS. */
  | { readonly topology: Topology }

export interface GatewayOwnershipOptions {
  readonly ordinal: number
  readonly source: TopologySource
  /** Required with a file source: who to ask before taking guilds over. */
  readonly peers?: PeerDirectory
  /** How stale a peer list can be (the DNS cache TTL in front of it). */
  readonly listFreshnessMs?: number
  /** How often the file is read and, while unsettled, the peers asked. */
  readonly pollMs?: number
  readonly peerTimeoutMs?: number
  readonly onChange?: (status: OwnershipStatus) => void
}

export interface OwnershipStatus {
  readonly ordinal: number
  readonly version: string
  readonly strategy: string
  readonly count: number
  /** Every peer holds this topology: guilds that moved here are accepted. */
  readonly settled: boolean
  readonly ready: boolean
  /** The last time the file could not be used, and why; the topology held before stays. */
  readonly fileError?: string
}

export interface Refusal {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

export interface GatewayOwnership {
  owns (guildId: GuildId): Decision
  /** The response for a guild this pod must not serve now: 421 with a code, a message and Retry-After. */
  refusal (guildId: GuildId, decision: Exclude<Decision, { kind: 'accept' }>): Refusal
  status (): OwnershipStatus
  close (): void
}

/**
 * The ownership protocol for a real gateway: watches the topology file, asks
 * the peers until every one holds the same topology, and answers `owns()`.
 * Serve `status()` as JSON on GET /topology so peers can ask this pod, and
 * report not-ready from the health check until `status().ready`.
 */
export function startGatewayOwnership (opts: GatewayOwnershipOptions): GatewayOwnership {
  const now = (): number => performance.timeOrigin + performance.now()
  const pollMs = opts.pollMs ?? 1000
  const timeoutMs = opts.peerTimeoutMs ?? 1000
  const file = 'file' in opts.source ? opts.source.file : undefined
  if (file !== undefined && opts.peers === undefined) throw new TypeError('a topology file needs a peer directory')
  const gate = new OwnershipGate(opts.ordinal, file === undefined ? (opts.source as { topology: Topology }).topology : parseTopology(readFileSync(file, 'utf8'), file),
    now(), { listFreshnessMs: opts.listFreshnessMs ?? 0 })
  let fileError: string | undefined
  let closed = false
  let timer: NodeJS.Timeout | undefined

  const status = (): OwnershipStatus => ({
    ordinal: gate.ordinal,
    version: gate.version,
    strategy: gate.topology.strategy,
    count: gate.topology.count,
    settled: gate.settled,
    ready: gate.ready,
    ...(fileError === undefined ? {} : { fileError })
  })

  // A fixed topology has no peers at other versions to wait for.
  if (opts.peers === undefined) gate.settle({ epoch: gate.epoch, listedAt: Infinity, versions: [gate.version] })

  async function tick (): Promise<void> {
    if (file !== undefined) {
      try {
        if (gate.load(parseTopology(readFileSync(file, 'utf8'), file), now())) opts.onChange?.(status())
        fileError = undefined
      } catch (err) {
        fileError = (err as Error).message
      }
    }
    if (!gate.settled && opts.peers !== undefined) {
      try {
        if (gate.settle(await peerRound(gate, opts.peers, now, timeoutMs))) opts.onChange?.(status())
      } catch {
        // The list could not be read (DNS down): ask again next tick.
      }
    }
  }

  function schedule (): void {
    if (closed) return
    timer = setTimeout(() => { void tick().finally(schedule) }, pollMs)
    timer.unref()
  }
  if (opts.peers !== undefined) void tick().finally(schedule)

  return {
    owns: guildId => gate.decide(guildId),
    refusal (guildId, decision) {
      const body = decision.kind === 'not_owner'
        ? { error: 'not_owner', message: `guild ${guildId} belongs to pod ${decision.owner} under topology ${gate.version}, not ${gate.ordinal}`, ordinal: gate.ordinal, owner: decision.owner, topologyVersion: gate.version }
        : { error: 'ownership_pending', message: `guild ${guildId} moves to pod ${gate.ordinal} under topology ${gate.version}; waiting until every gateway holds it`, ordinal: gate.ordinal, topologyVersion: gate.version }
      const text = JSON.stringify(body)
      return { status: 421, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'retry-after': '1' }, body: text }
    },
    status,
    close () {
      closed = true
      clearTimeout(timer)
    }
  }
}
