import type * as k8s from '@pulumi/kubernetes'
import type * as pulumi from '@pulumi/pulumi'
import type { Labels } from './labels'
import { restrictedContainerSecurity, restrictedPodSecurity } from './security'
import type { Resources } from './stack-config'

/** Pure spec builders for the gateway tier: the component wires them. */

export interface GatewayPodArgs {
  readonly replicas: number
  readonly image: string
  readonly imagePullPolicy?: string
  /** Overrides the image's command (the bundled reference gateway). */
  readonly command?: readonly string[]
  readonly port: number
  readonly healthPath: string
  readonly routingStrategy: string
  readonly resources: Resources
  readonly storageSize: string
  readonly storageClass?: string
}

export const DATA_MOUNT = '/data'
/** The label the StatefulSet controller puts on each pod (Kubernetes ≥ 1.28). */
const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index'

export function headlessServiceSpec (selector: Labels, port: number): k8s.types.input.core.v1.ServiceSpec {
  return {
    // Headless: DNS answers with each pod's own address, which is what makes
    // gateway-<n>.gateway-internal name one pod.
    clusterIP: 'None',
    selector,
    ports: [{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }]
  }
}

export function gatewayStatefulSetSpec (serviceName: pulumi.Input<string>, selector: Labels, labels: Labels,
  args: GatewayPodArgs): k8s.types.input.apps.v1.StatefulSetSpec {
  const probe = (periodSeconds: number, failureThreshold: number): k8s.types.input.core.v1.Probe => ({
    httpGet: { path: args.healthPath, port: 'http' }, periodSeconds, failureThreshold, timeoutSeconds: 2
  })
  return {
    serviceName,
    replicas: args.replicas,
    selector: { matchLabels: selector },
    // Pods start one at a time, lowest ordinal first, and leave highest first:
    // the order jump hashing assumes when it hands guilds to the newest pod.
    podManagementPolicy: 'OrderedReady',
    updateStrategy: { type: 'RollingUpdate' },
    // A pod removed by a scale-down keeps its volume, so scaling back up finds its guilds' data.
    persistentVolumeClaimRetentionPolicy: { whenScaled: 'Retain', whenDeleted: 'Retain' },
    template: {
      metadata: { labels },
      spec: {
        securityContext: restrictedPodSecurity,
        terminationGracePeriodSeconds: 30,
        containers: [{
          name: 'gateway',
          image: args.image,
          ...(args.imagePullPolicy === undefined ? {} : { imagePullPolicy: args.imagePullPolicy }),
          ...(args.command === undefined ? {} : { command: [...args.command] }),
          ports: [{ name: 'http', containerPort: args.port, protocol: 'TCP' }],
          env: [
            // The ordinal and the pod count let a gateway refuse guilds it does not own.
            { name: 'ORDINAL', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${POD_INDEX_LABEL}']` } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'NUM_GATEWAY_PODS', value: String(args.replicas) },
            { name: 'ROUTING_STRATEGY', value: args.routingStrategy },
            { name: 'PORT', value: String(args.port) },
            { name: 'HOST', value: '0.0.0.0' },
            { name: 'DATA_DIR', value: DATA_MOUNT }
          ],
          readinessProbe: probe(5, 2),
          livenessProbe: probe(10, 6),
          resources: {
            requests: { cpu: args.resources.cpuRequest, memory: args.resources.memoryRequest },
            limits: { memory: args.resources.memoryLimit }
          },
          securityContext: restrictedContainerSecurity,
          volumeMounts: [{ name: 'data', mountPath: DATA_MOUNT }, { name: 'tmp', mountPath: '/tmp' }]
        }],
        volumes: [{ name: 'tmp', emptyDir: {} }]
      }
    },
    volumeClaimTemplates: [{
      metadata: { name: 'data', labels: selector },
      spec: {
        accessModes: ['ReadWriteOnce'],
        ...(args.storageClass === undefined ? {} : { storageClassName: args.storageClass }),
        resources: { requests: { storage: args.storageSize } }
      }
    }]
  }
}

/** At most one gateway down for voluntary disruptions: each one owns a slice of guilds. */
export function maxOneUnavailable (selector: Labels): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
  return { maxUnavailable: 1, selector: { matchLabels: selector } }
}
