import type * as k8s from '@pulumi/kubernetes'
import type * as pulumi from '@pulumi/pulumi'
import { formatTopology } from '../service/gateway/topology'
import type { StrategyName } from '../service/routing/strategy-names'
import type { Labels } from './labels'
import { placementSpec, type Placement } from './placement'
import { prometheusAnnotations } from './scrape'
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
  /** Peer traffic (topology, handoffs): a port of its own, so nothing sent through a router reaches it. */
  readonly peerPort: number
  /** Where the gateway serves GET /metrics (the reference gateway does; gateway-metrics.ts). */
  readonly metricsPort: number
  readonly healthPath: string
  readonly routingStrategy: string
  /** How long a DNS answer for the peers Service may be cached (the cluster DNS's TTL). */
  readonly peerListTtlSeconds: number
  /** `api`: the gateways watch their ConfigMap and EndpointSlices (needs `serviceAccountName`); `file`: kubelet's copy and DNS. */
  readonly topologySource: 'api' | 'file'
  readonly resources: Resources
  readonly storageSize: string
  readonly storageClass?: string
  readonly placement: Placement
}

export const DATA_MOUNT = '/data'
/** The topology ConfigMap, mounted as a directory: kubelet swaps its files in place when it changes. */
export const TOPOLOGY_MOUNT = '/etc/guild-router/topology'
export const TOPOLOGY_KEY = 'topology.json'
/** The gateway container's metrics port, by name: what a PodMonitor scrapes. */
export const GATEWAY_METRICS_PORT_NAME = 'metrics'
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

/**
 * The second headless Service, for the gateways themselves: it publishes pods
 * that are not Ready or are terminating, so a gateway asking "who could still
 * be accepting guilds?" hears about every pod that exists. Routers keep
 * dialling `gateway-internal`, where only Ready pods resolve.
 */
export function peersServiceSpec (selector: Labels, peerPort: number): k8s.types.input.core.v1.ServiceSpec {
  return {
    clusterIP: 'None',
    selector,
    ports: [{ name: 'peer', port: peerPort, targetPort: 'peer', protocol: 'TCP' }],
    publishNotReadyAddresses: true
  }
}

/** The ConfigMap's data: the count and strategy every gateway follows, with no restart when they change. */
export function topologyData (replicas: number, strategy: string): Record<string, string> {
  return { [TOPOLOGY_KEY]: formatTopology({ strategy: strategy as StrategyName, count: replicas }) }
}

/**
 * How stale a peer list read from the API server's watch may be: the
 * EndpointSlice controller's publication of a new pod's address plus the
 * watch's delivery, about a second on a healthy control plane. An assumption
 * of the ownership protocol (README, "What it assumes of Kubernetes").
 */
export const API_LIST_LAG_SECONDS = 5

/** What a gateway may read through the API server: its one ConfigMap, and EndpointSlices (list and watch cannot be narrowed by label in RBAC). */
export function gatewayTopologyReaderRules (configMap: pulumi.Input<string>): k8s.types.input.rbac.v1.PolicyRule[] {
  return [
    { apiGroups: [''], resources: ['configmaps'], resourceNames: [configMap], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] }
  ]
}

export function gatewayStatefulSetSpec (serviceName: pulumi.Input<string>, selector: Labels, labels: Labels,
  args: GatewayPodArgs, topology: { configMap: pulumi.Input<string>, peersService: pulumi.Input<string>, peersServiceName: pulumi.Input<string>, serviceAccount?: pulumi.Input<string> }): k8s.types.input.apps.v1.StatefulSetSpec {
  const api = args.topologySource === 'api'
  const source: k8s.types.input.core.v1.EnvVar[] = api
    ? [
        { name: 'TOPOLOGY_CONFIGMAP', value: topology.configMap },
        { name: 'TOPOLOGY_KEY', value: TOPOLOGY_KEY },
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'PEERS_ENDPOINTSLICES', value: topology.peersServiceName },
        { name: 'TOPOLOGY_LIST_FRESHNESS_MS', value: String(API_LIST_LAG_SECONDS * 1000) }
      ]
    : [
        { name: 'TOPOLOGY_FILE', value: `${TOPOLOGY_MOUNT}/${TOPOLOGY_KEY}` },
        { name: 'PEERS_SERVICE', value: topology.peersService },
        { name: 'TOPOLOGY_LIST_FRESHNESS_MS', value: String(args.peerListTtlSeconds * 1000) }
      ]
  const probe = (periodSeconds: number, failureThreshold: number): k8s.types.input.core.v1.Probe => ({
    httpGet: { path: args.healthPath, port: 'http' }, periodSeconds, failureThreshold, timeoutSeconds: 2
  })
  // Liveness is only "the process still listens": a gateway waiting for its
  // peers is not Ready, and must not be restarted for it.
  const listening: k8s.types.input.core.v1.Probe = { tcpSocket: { port: 'http' }, periodSeconds: 10, failureThreshold: 6, timeoutSeconds: 2 }
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
      // The prometheus community chart's kubernetes-pods job scrapes what these name.
      metadata: { labels, annotations: prometheusAnnotations(args.metricsPort) },
      spec: {
        securityContext: restrictedPodSecurity,
        terminationGracePeriodSeconds: 30,
        ...placementSpec(selector, args.placement),
        // Only the api source reads the API server; without it the pod gets no token at all.
        ...(api ? { serviceAccountName: topology.serviceAccount, automountServiceAccountToken: true } : {}),
        containers: [{
          name: 'gateway',
          image: args.image,
          ...(args.imagePullPolicy === undefined ? {} : { imagePullPolicy: args.imagePullPolicy }),
          ...(args.command === undefined ? {} : { command: [...args.command] }),
          ports: [
            { name: 'http', containerPort: args.port, protocol: 'TCP' },
            { name: 'peer', containerPort: args.peerPort, protocol: 'TCP' },
            { name: GATEWAY_METRICS_PORT_NAME, containerPort: args.metricsPort, protocol: 'TCP' }
          ],
          env: [
            // The ordinal and the topology file let a gateway refuse guilds it does not own.
            // The count is not in the pod template: changing it must not restart the pods.
            { name: 'ORDINAL', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${POD_INDEX_LABEL}']` } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ...source,
            { name: 'PORT', value: String(args.port) },
            { name: 'PEER_PORT', value: String(args.peerPort) },
            { name: 'METRICS_PORT', value: String(args.metricsPort) },
            { name: 'HOST', value: '0.0.0.0' },
            { name: 'DATA_DIR', value: DATA_MOUNT }
          ],
          readinessProbe: probe(5, 2),
          livenessProbe: listening,
          resources: {
            requests: { cpu: args.resources.cpuRequest, memory: args.resources.memoryRequest },
            limits: { memory: args.resources.memoryLimit }
          },
          securityContext: restrictedContainerSecurity,
          volumeMounts: [
            { name: 'data', mountPath: DATA_MOUNT },
            { name: 'tmp', mountPath: '/tmp' },
            // No subPath: a subPath mount is never refreshed.
            ...(api ? [] : [{ name: 'topology', mountPath: TOPOLOGY_MOUNT, readOnly: true }])
          ]
        }],
        volumes: [{ name: 'tmp', emptyDir: {} }, ...(api ? [] : [{ name: 'topology', configMap: { name: topology.configMap } }])]
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

/**
 * Who may open which gateway port. (Kubelet probes come from the node, which
 * NetworkPolicy implementations let through.)
 * - the client port: routers only;
 * - the peer port: gateways (topology rounds, handoffs) and the handoff
 *   barrier only. SECURITY: a handoff hands over, confirms or deletes a
 *   guild's whole database, so no router, and so no client of the bot, may reach it.
 */
export function gatewayIngressPolicySpec (gatewaySelector: Labels, routerSelector: Labels, barrierSelector: Labels,
  ports: { client: pulumi.Input<number>, peer: pulumi.Input<number>, metrics: pulumi.Input<number> }): k8s.types.input.networking.v1.NetworkPolicySpec {
  return {
    podSelector: { matchLabels: gatewaySelector },
    policyTypes: ['Ingress'],
    ingress: [
      { from: [{ podSelector: { matchLabels: routerSelector } }], ports: [{ protocol: 'TCP', port: ports.client }] },
      { from: [{ podSelector: { matchLabels: gatewaySelector } }, { podSelector: { matchLabels: barrierSelector } }], ports: [{ protocol: 'TCP', port: ports.peer }] },
      // Read-only, and Prometheus may run in any namespace: any source may scrape.
      { ports: [{ protocol: 'TCP', port: ports.metrics }] }
    ]
  }
}
