import { readFile } from 'node:fs/promises'
import { lookup } from 'node:dns/promises'
import { request } from 'undici'
import type { OwnershipGate, PeerAnswer, PeerRound } from './ownership-gate'
import { PEER_PATHS } from './handoff-wire'

/**
 * Lists every gateway pod that exists, as base URLs of their peer ports,
 * including this one and pods that are not Ready or are shutting down: the
 * protocol needs to hear from every process that could still hold a guild.
 */
export type PeerDirectory = () => Promise<string[]>

/**
 * In Kubernetes: the A records of the `gateway-peers` headless Service, which
 * publishes not-ready addresses, so a pod is listed from when it gets an
 * address until it is gone. Give the name fully qualified with a trailing dot,
 * so the resolver does not walk the search list first.
 */
export function dnsPeers (serviceName: string, port: number): PeerDirectory {
  return async () => {
    const addresses = await lookup(serviceName, { all: true })
    return addresses.map(a => `http://${a.family === 6 ? `[${a.address}]` : a.address}:${port}`)
  }
}

/** Local runs: a file with one base URL per line, kept by whatever starts and stops the gateways. */
export function filePeers (path: string): PeerDirectory {
  return async () => (await readFile(path, 'utf8')).split('\n').map(l => l.trim()).filter(l => l !== '')
}

/** GET /topology: what a gateway holds. Read-only, so it is served on the client port too (for the routers' status page). */
export const TOPOLOGY_PATH = PEER_PATHS.topology

/** One round, plus where each answering ordinal can be reached and what it holds (for handoffs). */
export interface AskedRound extends PeerRound {
  readonly peers: ReadonlyMap<number, { url: string, version: string, ready: boolean }>
}

/** Asks each listed peer what it holds, for the gate's current epoch. */
export async function peerRound (gate: OwnershipGate, peers: PeerDirectory, now: () => number, timeoutMs: number): Promise<AskedRound> {
  const epoch = gate.epoch
  // Stamped before the lookup: a slow lookup must not make the list look fresher than it is.
  const listedAt = now()
  const list = await peers()
  const answers = await Promise.all(list.map(async url => await peerAnswer(url, timeoutMs)))
  const known = new Map<number, { url: string, version: string, ready: boolean }>()
  answers.forEach((a, i) => { if (a !== undefined) known.set(a.ordinal, { url: list[i]!, version: a.version, ready: a.ready === true }) })
  return { epoch, listedAt, answers, peers: known }
}

/** A peer's GET /topology as sent, or undefined when it did not answer 200 with JSON in time. */
export async function peerStatus (base: string, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await request(`${base}${PEER_PATHS.topology}`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    if (res.statusCode !== 200) {
      await res.body.dump()
      return undefined
    }
    return await res.body.json() as Record<string, unknown>
  } catch {
    return undefined
  }
}

async function peerAnswer (base: string, timeoutMs: number): Promise<PeerAnswer | undefined> {
  const b = await peerStatus(base, timeoutMs)
  if (b === undefined || typeof b.version !== 'string' || !Number.isInteger(b.ordinal) || !Number.isInteger(b.horizon)) return undefined
  const to = (b.handoff as { sending?: { to?: unknown } } | undefined)?.sending?.to
  const sendingTo = typeof to === 'object' && to !== null ? to as Record<string, number> : undefined
  return { ordinal: b.ordinal as number, version: b.version, clean: b.clean === true, horizon: b.horizon as number, ready: b.ready === true, ...(sendingTo === undefined ? {} : { sendingTo }) }
}
