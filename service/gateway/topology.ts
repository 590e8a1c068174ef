import { createHash } from 'node:crypto'
import { isStrategyName, type StrategyName } from '../routing/strategy-names'

/**
 * What a gateway needs to know to tell which guilds are its own: the pod
 * count and the strategy. The Pulumi program writes it into the
 * `gateway-topology` ConfigMap from the same StatefulSet Output the routers'
 * NUM_GATEWAY_PODS comes from, so both sides describe one topology.
 */
export interface Topology {
  readonly strategy: StrategyName
  readonly count: number
}

export class TopologyError extends Error {
  readonly code = 'invalid_topology'
  constructor (message: string) {
    super(message)
    this.name = 'TopologyError'
  }
}

/**
 * A short name for a topology, the same on every pod and router that holds it.
 * The ownership protocol only ever compares versions for equality, so a digest
 * of the content is enough: no counter has to be kept anywhere.
 */
export function topologyVersion (t: Topology): string {
  return createHash('sha256').update(`${t.strategy}:${t.count}`).digest('hex').slice(0, 12)
}

/** Parses the ConfigMap's `topology.json`: `{"strategy":"jump","count":4}`. */
export function parseTopology (text: string, source = 'topology'): Topology {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new TopologyError(`${source} is not JSON`)
  }
  const { strategy, count } = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>
  if (typeof strategy !== 'string' || !isStrategyName(strategy)) {
    throw new TopologyError(`${source}: strategy must be one of md5-mod, jump, discord-shard (got ${JSON.stringify(strategy)})`)
  }
  if (!isPodCount(count)) {
    throw new TopologyError(`${source}: count must be an integer from 1 to 100000 (got ${JSON.stringify(count)})`)
  }
  return Object.freeze({ strategy, count })
}

function isPodCount (value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 100_000
}

export function formatTopology (t: Topology): string {
  return JSON.stringify({ strategy: t.strategy, count: t.count })
}
