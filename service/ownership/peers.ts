import { readFile } from 'node:fs/promises'
import { lookup } from 'node:dns/promises'
import { request } from 'undici'
import type { OwnershipGate, PeerRound } from './ownership-gate'

/**
 * Lists every gateway pod that exists, as base URLs, including this one and
 * pods that are not Ready or are shutting down: the protocol needs to hear
 * from every process that could still be accepting guilds.
 */
export type PeerDirectory = () => Promise<string[]>

/**
 * In Kubernetes: the A records of the `gateway-peers` headless Service, which
 * publishes not-ready addresses, so a pod is listed from when it gets an
 * address until it is gone.
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

export const TOPOLOGY_PATH = '/topology'

/** Asks each listed peer for the topology version it holds, for the gate's current epoch. */
export async function peerRound (gate: OwnershipGate, peers: PeerDirectory, now: () => number, timeoutMs: number): Promise<PeerRound> {
  const epoch = gate.epoch
  const urls = await peers()
  const listedAt = now()
  const versions = await Promise.all(urls.map(async url => await peerVersion(url, timeoutMs)))
  return { epoch, listedAt, versions }
}

async function peerVersion (base: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await request(`${base}${TOPOLOGY_PATH}`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    if (res.statusCode !== 200) {
      await res.body.dump()
      return undefined
    }
    const body = await res.body.json() as { version?: unknown }
    return typeof body.version === 'string' ? body.version : undefined
  } catch {
    return undefined
  }
}
