import type { OwnershipStatus } from './gateway-ownership'
import { topologyVersion, type Topology } from './topology'

export interface BarrierVerdict {
  readonly done: boolean
  /** What is still in the way, one line per pod; empty when done. */
  readonly waiting: string[]
}

/**
 * May the StatefulSet shrink to `target` now? Pure: decides from what every
 * listed gateway answered on its peer port (undefined where one did not).
 *
 * With no pod at or above the target count there is nothing to wait for (a
 * scale-up, or no change): the barrier must not wait for pods that only the
 * StatefulSet change behind it creates. Otherwise every pod, the leaving ones
 * included, must have settled at the target topology: then each was clean at
 * it in one round, so the leaving pods hold nothing and nobody owes them a
 * guild, and the survivors no longer need an answer from them to settle.
 */
export function barrierVerdict (target: Topology, answers: ReadonlyArray<OwnershipStatus | undefined>): BarrierVerdict {
  const version = topologyVersion(target)
  // More pods listed than the target keeps, or one answering with an ordinal past it.
  const leaving = answers.length > target.count || answers.some(a => a !== undefined && a.ordinal >= target.count)
  if (!leaving) return { done: true, waiting: [] }
  const waiting: string[] = []
  answers.forEach((a, i) => {
    if (a === undefined) {
      waiting.push(`peer ${i} on the list did not answer`)
      return
    }
    if (a.version !== version) {
      waiting.push(`gateway-${a.ordinal} still holds ${a.strategy} × ${a.count} (its ConfigMap mount has not refreshed yet)`)
      return
    }
    if (a.settled) return
    const s = a.handoff.sending
    const detail = s.guilds > 0
      ? `sending ${s.guilds} guilds (${s.bytes} bytes) to ${Object.keys(s.to).map(n => `gateway-${n}`).join(', ') || 'their owners'}${a.handoff.stuck === undefined ? '' : `; last error: ${a.handoff.stuck}`}`
      : a.clean ? 'waiting for every peer to confirm it holds nothing it does not own' : 'draining requests for guilds it no longer owns'
    waiting.push(`gateway-${a.ordinal}: ${detail}`)
  })
  return { done: waiting.length === 0, waiting }
}
