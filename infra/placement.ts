import type * as k8s from '@pulumi/kubernetes'
import type { Labels } from './labels'

/**
 * Where a tier's pods may run, and how they spread. A gateway pod is the only
 * home of its guilds, so two gateways on one node, or in one zone, mean that
 * losing it takes two shares of guilds offline at once; two routers there mean
 * the HPA's minimum of 2 protects nothing.
 *
 * - `soft` (the default): the scheduler prefers the placement with the least
 *   skew across zones and nodes (ScheduleAnyway). Pods always schedule,
 *   including on a single node or in a cluster with no zone labels.
 * - `hard`: at most one pod more in any zone, or on any node, than in the
 *   emptiest (DoNotSchedule). A pod that cannot keep that stays Pending, and
 *   so does every pod on a cluster whose nodes have no zone label: nodes
 *   without the topology key are not eligible.
 * - `none`: no constraint; the scheduler's own spreading only.
 */
export const SPREADS = ['soft', 'hard', 'none'] as const
export type Spread = typeof SPREADS[number]

export const ZONE_KEY = 'topology.kubernetes.io/zone'
export const HOST_KEY = 'kubernetes.io/hostname'

export interface Toleration {
  readonly key: string
  readonly operator: 'Equal' | 'Exists'
  readonly value?: string
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'
}

export interface Placement {
  readonly spread: Spread
  readonly nodeSelector: Readonly<Record<string, string>>
  readonly tolerations: readonly Toleration[]
  /** Gateways only: so they are not the first pods evicted under node pressure. */
  readonly priorityClassName?: string
}

/**
 * The pod-spec fields for a tier's placement. `revisionLabel` is the label a
 * controller puts on each revision's pods (a Deployment's pod-template-hash):
 * spreading then counts one revision's pods, so a rollout is not skewed by
 * the pods it is replacing.
 */
export function placementSpec (selector: Labels, placement: Placement, revisionLabel?: string): Pick<k8s.types.input.core.v1.PodSpec, 'topologySpreadConstraints' | 'nodeSelector' | 'tolerations' | 'priorityClassName'> {
  const spec: ReturnType<typeof placementSpec> = {}
  if (placement.spread !== 'none') {
    spec.topologySpreadConstraints = [ZONE_KEY, HOST_KEY].map(topologyKey => ({
      maxSkew: 1,
      topologyKey,
      whenUnsatisfiable: placement.spread === 'hard' ? 'DoNotSchedule' : 'ScheduleAnyway',
      labelSelector: { matchLabels: selector },
      ...(revisionLabel === undefined ? {} : { matchLabelKeys: [revisionLabel] })
    }))
  }
  if (Object.keys(placement.nodeSelector).length > 0) spec.nodeSelector = { ...placement.nodeSelector }
  if (placement.tolerations.length > 0) spec.tolerations = placement.tolerations.map(t => ({ ...t }))
  if (placement.priorityClassName !== undefined) spec.priorityClassName = placement.priorityClassName
  return spec
}

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const

/**
 * Tolerations written as taints are in `kubectl taint`: `key=value:Effect`,
 * `key:Effect` (any value) or `key=value` / `key` (any effect), separated by
 * commas. Returns the problem instead when the text is not that.
 */
export function parseTolerations (text: string): Toleration[] | string {
  const tolerations: Toleration[] = []
  for (const item of text.split(',').map(s => s.trim()).filter(s => s !== '')) {
    const m = /^([A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?)(=([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?)?(:([A-Za-z]+))?$/.exec(item)
    const effect = m?.[7]
    if (m === null || (effect !== undefined && !(TAINT_EFFECTS as readonly string[]).includes(effect))) {
      return `must be taints such as dedicated=bots:NoSchedule,spot:NoExecute (effects ${TAINT_EFFECTS.join(', ')}); ${JSON.stringify(item)} is not one`
    }
    const hasValue = m[3] !== undefined
    tolerations.push({
      key: m[1] as string,
      operator: hasValue ? 'Equal' : 'Exists',
      ...(hasValue ? { value: m[4] ?? '' } : {}),
      ...(effect === undefined ? {} : { effect: effect as Toleration['effect'] })
    })
  }
  return tolerations
}
