import type * as k8s from '@pulumi/kubernetes'
import type * as pulumi from '@pulumi/pulumi'
import type { Labels } from './labels'
import { restrictedContainerSecurity, restrictedPodSecurity } from './security'

export interface HandoffBarrierArgs {
  /** An image with the router's dist/ (the router image): the barrier is this project's code, whatever runs the gateways. */
  readonly image: string
  readonly imagePullPolicy?: string
  /** The gateway-peers Service's fully qualified name. */
  readonly peersService: pulumi.Input<string>
  readonly peerPort: number
  /** The ConfigMap's topology.json: the topology the StatefulSet is about to take. */
  readonly topology: string
  readonly timeoutSeconds: number
}

export const HANDOFF_BARRIER_COMMAND = ['node', 'dist/service/gateway/handoff-barrier-main.js']

/**
 * The Job `pulumi up` runs between the topology ConfigMap and the
 * StatefulSet. It completes at once unless pods are leaving; on a scale-down
 * it completes only once every gateway has settled at the new topology
 * (service/gateway/handoff-barrier.ts says why that is the right moment), so
 * the StatefulSet shrinks only after the leaving pods have handed their
 * guilds over. If that takes longer than `timeoutSeconds`, the Job fails,
 * `pulumi up` stops before the StatefulSet, and the pod's log says what is stuck.
 */
export function handoffBarrierJobSpec (labels: Labels, args: HandoffBarrierArgs): k8s.types.input.batch.v1.JobSpec {
  return {
    activeDeadlineSeconds: args.timeoutSeconds,
    // A barrier pod that crashed may run again; the deadline bounds the whole Job.
    backoffLimit: 3,
    template: {
      metadata: { labels },
      spec: {
        restartPolicy: 'Never',
        securityContext: restrictedPodSecurity,
        containers: [{
          name: 'handoff-barrier',
          image: args.image,
          ...(args.imagePullPolicy === undefined ? {} : { imagePullPolicy: args.imagePullPolicy }),
          command: [...HANDOFF_BARRIER_COMMAND],
          env: [
            { name: 'PEERS_SERVICE', value: args.peersService },
            { name: 'PEER_PORT', value: String(args.peerPort) },
            { name: 'TARGET_TOPOLOGY', value: args.topology }
          ],
          // What it waited for is the last thing it printed: shown on the Job's failed pod.
          terminationMessagePolicy: 'FallbackToLogsOnError',
          resources: { requests: { cpu: '10m', memory: '48Mi' }, limits: { memory: '128Mi' } },
          securityContext: restrictedContainerSecurity
        }]
      }
    }
  }
}
