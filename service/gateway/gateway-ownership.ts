import { readFileSync } from 'node:fs'
import { OWNER_HEADER, REFUSAL_HEADER, TOPOLOGY_COUNT_HEADER } from '../routing/gateway-contract'
import type { GuildId } from '../routing/guild-id'
import { GuildLeases } from './guild-leases'
import type { GuildStorage } from './guild-storage'
import { HandoffJournal } from './handoff-journal'
import { HandoffReceiver } from './handoff-receiver'
import { HandoffSender } from './handoff-sender'
import { OwnershipGate, type Decision, type PeerAnswer } from './ownership-gate'
import { peerRound, type PeerDirectory } from './peers'
import { parseTopology, topologyVersion, type Topology } from './topology'

export type TopologySource =
  /** A file kubelet keeps current: `topology.json` in a ConfigMap mounted as a directory (not with subPath, which never refreshes). */
  | { readonly file: string }
  /** A topology fixed for the life of the process, as with NUM_GATEWAY_PODS. */
  | { readonly topology: Topology }
  /**
   * The ConfigMap as the API server has it (kube-sources.ts), which a watch
   * sees within about a second of a change. `latest()` must have a value at
   * start: await the watch's first list.
   */
  | { readonly latest: () => string | undefined, readonly name: string }

export interface GatewayOwnershipOptions {
  readonly ordinal: number
  readonly source: TopologySource
  /** Required with a file source: who to ask before taking guilds over, and where to send them. */
  readonly peers?: PeerDirectory
  /**
   * The guilds' data, so it moves with them on a rescale. With it, `stateDir`
   * is required: the handoff journal lives there, on the same volume.
   */
  readonly storage?: GuildStorage
  readonly stateDir?: string
  /** How stale a peer list can be (the DNS cache TTL in front of it). */
  readonly listFreshnessMs?: number
  /** How often the file is read and, while unsettled, the peers asked. */
  readonly pollMs?: number
  readonly peerTimeoutMs?: number
  /** The largest guild one handoff accepts. */
  readonly maxGuildBytes?: number
  readonly onChange?: (status: OwnershipStatus) => void
  /** Handoff events, one object per line. */
  readonly log?: (line: Record<string, unknown>) => void
}

export interface HandoffProgress {
  /** Guilds (and their bytes) this pod still has to send, and to which ordinals. */
  readonly sending: { readonly guilds: number, readonly bytes: number, readonly to: Record<string, number> }
  /** Guilds peers reported they still have to send here, plus those arriving now. */
  readonly receiving: { readonly guilds: number, readonly bytes: number }
  readonly sent: { readonly guilds: number, readonly bytes: number }
  readonly received: { readonly guilds: number, readonly bytes: number }
  /** Why the last send did not go through, while something is still to send. */
  readonly stuck?: string
}

export interface OwnershipStatus {
  readonly ordinal: number
  readonly version: string
  readonly strategy: string
  readonly count: number
  /** Every pod that may hold data holds this topology and nothing it does not own: guilds with no data anywhere start here. */
  readonly settled: boolean
  /** Once since start, every listed pod held this pod's topology: serve traffic (report Ready). */
  readonly ready: boolean
  /** Holds nothing it does not own, runs nothing for it, has nothing left to send. */
  readonly clean: boolean
  readonly horizon: number
  readonly guilds: number
  readonly handoff: HandoffProgress
  /** The last time the file could not be used, and why; the topology held before stays. */
  readonly fileError?: string
}

export interface Refusal {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

export interface GatewayOwnership {
  /**
   * Whether this pod may run a request for the guild now. On 'accept' the
   * request counts as running until `end(guildId)`: call it exactly once,
   * when the request's work is done (its write committed), or the guild can
   * never be handed off.
   */
  begin (guildId: GuildId): Decision
  end (guildId: GuildId): void
  /** The response for a guild this pod must not serve now: 421 with a code, a message and Retry-After. */
  refusal (guildId: GuildId, decision: Exclude<Decision, { kind: 'accept' }>): Refusal
  status (): OwnershipStatus
  /** Handoffs arriving from peers; the peer server calls it. */
  readonly receiver?: HandoffReceiver
  /** The operator's command for a guild whose data is gone: starts it empty here, if this pod owns it and holds nothing. */
  startEmpty (guildId: GuildId): { ok: true } | { ok: false, code: string, message: string }
  close (): void
}

const NO_STORAGE: GuildStorage = {
  list: () => [],
  has: () => false,
  size: () => 0,
  export: async () => { throw new Error('no storage') },
  import: async () => { throw new Error('no storage') },
  remove: async () => {},
  createEmpty: () => {}
}

/**
 * The ownership protocol for a real gateway: follows the topology file, asks
 * the peers, moves guilds' data to their new owners (handoff-sender.ts,
 * handoff-receiver.ts), and answers `begin()`. Serve `status()` as JSON on
 * GET /topology of the peer port (peer-server.ts does it all).
 */
export function startGatewayOwnership (opts: GatewayOwnershipOptions): GatewayOwnership {
  const now = (): number => performance.timeOrigin + performance.now()
  const pollMs = opts.pollMs ?? 1000
  const timeoutMs = opts.peerTimeoutMs ?? 1000
  const log = opts.log ?? (() => {})
  const source = opts.source
  /** The topology's current text and where it came from, for a source that can change. */
  const changing: { read: () => string, name: string } | undefined = 'file' in source
    ? { read: () => readFileSync(source.file, 'utf8'), name: source.file }
    : 'latest' in source
      ? { read: () => source.latest() ?? fail(`${source.name}: not listed yet`), name: source.name }
      : undefined
  if (changing !== undefined && opts.peers === undefined) throw new TypeError('a topology that can change needs a peer directory')
  if (opts.storage !== undefined && opts.stateDir === undefined) throw new TypeError('storage needs a stateDir for the handoff journal')
  const storage = opts.storage ?? NO_STORAGE
  const journal = opts.stateDir === undefined ? undefined : new HandoffJournal(opts.stateDir)
  const initial = changing === undefined ? (source as { topology: Topology }).topology : parseTopology(changing.read(), changing.name)
  const gate = new OwnershipGate(opts.ordinal, initial, now(), {
    listFreshnessMs: opts.listFreshnessMs ?? 0,
    horizon: journal?.horizon,
    resumeSettled: journal !== undefined && journal.settledVersion === topologyVersion(initial)
  })
  const leases = new GuildLeases()
  /** Each ordinal that answered the last round: where to reach it, and the topology it held. */
  let peers: ReadonlyMap<number, { url: string, version: string, ready: boolean }> = new Map()
  /** What peers last said they still have to send here. */
  let inbound = { guilds: 0, bytes: 0 }
  const sender = journal === undefined
    ? undefined
    : new HandoffSender({
      ordinal: gate.ordinal, owner: g => gate.owner(g), storage, journal, leases, peerUrl: n => peers.get(n)?.url,
      agrees: n => peers.get(n)?.version === gate.version && peers.get(n)?.ready === true, timeoutMs: Math.max(timeoutMs, 30_000), log
    })
  const receiver = journal === undefined
    ? undefined
    : new HandoffReceiver({
      storage, journal, maxGuildBytes: opts.maxGuildBytes ?? 256 * 1024 * 1024, log,
      onReceived: guildId => { if (gate.owner(guildId) !== gate.ordinal) { sender?.enqueue(guildId); sender?.pump() } }
    })
  let fileError: string | undefined
  let closed = false
  let timer: NodeJS.Timeout | undefined

  const keepHorizon = (): void => { if (journal !== undefined && journal.horizon !== gate.horizon) journal.horizon = gate.horizon }
  keepHorizon()

  const clean = (): boolean => sender === undefined || sender.idle
  const status = (): OwnershipStatus => {
    const sending = sender?.pending() ?? { guilds: 0, bytes: 0, to: {} }
    const arriving = receiver?.arriving() ?? { guilds: 0, bytes: 0 }
    return {
      ordinal: gate.ordinal,
      version: gate.version,
      strategy: gate.topology.strategy,
      count: gate.topology.count,
      settled: gate.settled,
      ready: gate.ready,
      clean: clean(),
      horizon: gate.horizon,
      guilds: storage.list().length,
      handoff: {
        sending,
        receiving: { guilds: Math.max(inbound.guilds, arriving.guilds), bytes: Math.max(inbound.bytes, arriving.bytes) },
        sent: { ...(sender?.sent ?? { guilds: 0, bytes: 0 }) },
        received: { ...(receiver?.received ?? { guilds: 0, bytes: 0 }) },
        ...(sending.guilds > 0 && sender?.lastError !== undefined ? { stuck: sender.lastError } : {})
      },
      ...(fileError === undefined ? {} : { fileError })
    }
  }
  const self = (): PeerAnswer => ({ ordinal: gate.ordinal, version: gate.version, clean: clean(), horizon: gate.horizon })

  // A fixed topology never changes, so no pod ever holds another's guild:
  // settled from the start, as if every pod had answered.
  if (opts.peers === undefined) {
    gate.settle({ epoch: gate.epoch, listedAt: Infinity, answers: Array.from({ length: gate.horizon }, (_, ordinal) => ({ ...self(), ordinal, clean: true })) })
  }
  sender?.review()

  async function tick (): Promise<void> {
    if (changing !== undefined) {
      try {
        if (gate.load(parseTopology(changing.read(), changing.name), now())) {
          if (journal !== undefined) journal.settledVersion = undefined
          keepHorizon()
          sender?.review()
          opts.onChange?.(status())
        }
        fileError = undefined
      } catch (err) {
        fileError = (err as Error).message
      }
    }
    if ((!gate.settled || (sender !== undefined && !sender.idle)) && opts.peers !== undefined) {
      try {
        const round = await peerRound(gate, opts.peers, now, timeoutMs)
        peers = round.peers
        inbound = { guilds: round.answers.reduce((n, a) => n + Number(a?.sendingTo?.[gate.ordinal] ?? 0), 0), bytes: 0 }
        const wasSettled = gate.settled
        if (gate.settle(round) && !wasSettled) {
          inbound = { guilds: 0, bytes: 0 }
          if (journal !== undefined) journal.settledVersion = gate.version
          keepHorizon()
          opts.onChange?.(status())
        }
      } catch {
        // The list could not be read (DNS down): ask again next tick.
      }
      sender?.pump()
    }
  }

  function schedule (): void {
    if (closed) return
    timer = setTimeout(() => { void tick().finally(schedule) }, pollMs)
    timer.unref()
  }
  if (opts.peers !== undefined) void tick().finally(schedule)

  return {
    begin (guildId) {
      const decision = gate.decide(guildId, storage.has(guildId), sender?.leaving(guildId) ?? false)
      if (decision.kind === 'accept') leases.begin(guildId)
      return decision
    },
    end: guildId => { leases.end(guildId) },
    refusal (guildId, decision) {
      const body = decision.kind === 'not_owner'
        ? { error: 'not_owner', message: `guild ${guildId} belongs to pod ${decision.owner} under topology ${gate.version}, not ${gate.ordinal}`, ordinal: gate.ordinal, owner: decision.owner, topologyVersion: gate.version }
        : { error: 'ownership_pending', message: `guild ${guildId} moves to pod ${gate.ordinal} under topology ${gate.version}; waiting for its data, or for every gateway to confirm it holds none`, ordinal: gate.ordinal, topologyVersion: gate.version }
      const text = JSON.stringify(body)
      const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'retry-after': '1', [REFUSAL_HEADER]: body.error, [TOPOLOGY_COUNT_HEADER]: String(gate.topology.count) }
      if (decision.kind === 'not_owner') headers[OWNER_HEADER] = String(decision.owner)
      return { status: 421, headers, body: text }
    },
    status,
    receiver,
    startEmpty (guildId) {
      if (gate.owner(guildId) !== gate.ordinal) return { ok: false, code: 'not_owner', message: `guild ${guildId} belongs to pod ${gate.owner(guildId)} under topology ${gate.version}, not ${gate.ordinal}: run the command there` }
      if (storage.has(guildId)) return { ok: false, code: 'guild_exists', message: `guild ${guildId} has data on pod ${gate.ordinal} already` }
      if (sender?.leaving(guildId) === true) return { ok: false, code: 'handoff_in_progress', message: `guild ${guildId} is being handed off from this pod` }
      storage.createEmpty(guildId)
      log({ msg: 'guild started empty by operator', guildId, ordinal: gate.ordinal, topologyVersion: gate.version })
      return { ok: true }
    },
    close () {
      closed = true
      clearTimeout(timer)
      sender?.close()
      journal?.close()
    }
  }
}

function fail (message: string): never {
  throw new Error(message)
}
