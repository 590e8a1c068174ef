import * as k8s from '@pulumi/kubernetes'
import * as pulumi from '@pulumi/pulumi'
import { GATEWAY_SERVICE_NAME, GATEWAY_STATEFULSET_NAME, gatewayUrlTemplate, podUrl, serviceDomain } from '../service/routing/pod-address'
import {
  gatewayIngressPolicySpec, gatewayStatefulSetSpec, gatewayTopologyReaderRules, headlessServiceSpec, maxOneUnavailable, peersServiceSpec, TOPOLOGY_KEY, topologyData, type GatewayPodArgs
} from './gateway-specs'
import { handoffBarrierJobSpec } from './handoff-barrier-spec'
import { APP, imageVersion, objectLabels, selectorLabels, type Labels } from './labels'

export interface GatewayClusterArgs extends GatewayPodArgs {
  readonly namespace: pulumi.Input<string>
  readonly clusterDomain: string
  /** The router image: it carries the handoff barrier. */
  readonly toolsImage: string
  /** How long a scale-down may wait for the handoff before `pulumi up` fails without shrinking. */
  readonly handoffTimeoutSeconds: number
  /** The pods the NetworkPolicy admits to the client port: the routers. */
  readonly clients: Labels
}

/**
 * Where the NetworkPolicy lived before it moved here: a child named
 * `router-gateway-ingress` of the router tier (`router`, whose type kept its
 * first name). The alias tells the engine it is the same object, so a stack
 * created before the move updates its labels in place instead of deleting the
 * policy and creating it again, which would leave the gateways open between
 * the two steps.
 */
const FORMER_POLICY_URN = pulumi.createUrn('router-gateway-ingress', 'kubernetes:networking.k8s.io/v1:NetworkPolicy',
  pulumi.createUrn('router', `${APP}:k8s:GuildRouter`))

/**
 * The stateful tier: the headless Service `gateway-internal`, the StatefulSet
 * `gateway` with a volume per pod for its guilds' SQLite files, a
 * PodDisruptionBudget, and the NetworkPolicy that decides who may reach
 * which gateway port. Everything the router needs to reach pod n comes out
 * of here as Outputs, so the router is built from these objects, not from
 * literals that could drift.
 */
export class GatewayCluster extends pulumi.ComponentResource {
  readonly service: k8s.core.v1.Service
  /** Lists every gateway pod, Ready or not, for the ownership protocol. */
  readonly peersService: k8s.core.v1.Service
  /** The topology the gateways follow; updated in place on a rescale. */
  readonly topology: k8s.core.v1.ConfigMap
  /** Completes when no leaving pod holds a guild; the StatefulSet waits for it. */
  readonly handoffBarrier: k8s.batch.v1.Job
  /** The barrier's pods, which the NetworkPolicy admits to the peer port. */
  readonly barrierSelector: Labels
  readonly statefulSet: k8s.apps.v1.StatefulSet
  readonly disruptionBudget: k8s.policy.v1.PodDisruptionBudget
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy
  readonly selector: Labels
  readonly namespace: pulumi.Output<string>
  readonly serviceName: pulumi.Output<string>
  readonly statefulSetName: pulumi.Output<string>
  /** The StatefulSet's own `spec.replicas`: the router hashes over exactly this. */
  readonly replicas: pulumi.Output<number>
  readonly port: pulumi.Output<number>
  readonly peerPort: pulumi.Output<number>
  /** Where each gateway serves GET /metrics; the pod template says so to Prometheus. */
  readonly metricsPort: number
  /** The path a gateway answers on its client port when it is up: its probes', and the routers' health checks. */
  readonly healthPath: string

  constructor (name: string, args: GatewayClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${APP}:k8s:GatewayCluster`, name, {}, opts)
    this.selector = selectorLabels('guild-gateway', 'gateway')
    const labels = objectLabels(this.selector, imageVersion(args.image))

    // Fixed names: `gateway-<n>.gateway-internal` is the DNS contract the router dials.
    this.service = new k8s.core.v1.Service(`${name}-service`, {
      metadata: { name: GATEWAY_SERVICE_NAME, namespace: args.namespace, labels },
      spec: headlessServiceSpec(this.selector, args.port)
    }, { parent: this })

    this.peersService = new k8s.core.v1.Service(`${name}-peers`, {
      metadata: { name: `${GATEWAY_STATEFULSET_NAME}-peers`, namespace: args.namespace, labels },
      spec: peersServiceSpec(this.selector, args.peerPort)
    }, { parent: this })

    // A fixed name, so a new count is an in-place update (the stack enables
    // mutable ConfigMaps) that kubelet carries into the running pods.
    this.topology = new k8s.core.v1.ConfigMap(`${name}-topology`, {
      metadata: { name: `${GATEWAY_STATEFULSET_NAME}-topology`, namespace: args.namespace, labels },
      data: topologyData(args.replicas, args.routingStrategy)
    }, { parent: this })

    // Fully qualified with a trailing dot: under ndots:5 a shorter name walks the search list first.
    const peersService = pulumi.interpolate`${this.peersService.metadata.name}.${this.peersService.metadata.namespace}.svc.${args.clusterDomain}.`

    // ConfigMap → barrier → StatefulSet. On a scale-down the gateways hand the
    // leaving pods' guilds over under the new topology while the barrier waits,
    // and only then may the StatefulSet delete pods. On a scale-up the barrier
    // has nothing to wait for, and the new pods start with the new topology.
    this.barrierSelector = selectorLabels('guild-gateway', 'handoff-barrier')
    const topologyJson = topologyData(args.replicas, args.routingStrategy)[TOPOLOGY_KEY]!
    this.handoffBarrier = new k8s.batch.v1.Job(`${name}-handoff`, {
      metadata: {
        // A fixed name: one barrier per topology; a new topology replaces it (a Job's pod template is immutable).
        name: `${GATEWAY_STATEFULSET_NAME}-handoff`,
        namespace: args.namespace,
        labels: objectLabels(this.barrierSelector, imageVersion(args.toolsImage)),
        annotations: { 'pulumi.com/timeoutSeconds': String(args.handoffTimeoutSeconds + 60) }
      },
      spec: handoffBarrierJobSpec(objectLabels(this.barrierSelector, imageVersion(args.toolsImage)), {
        image: args.toolsImage,
        imagePullPolicy: args.imagePullPolicy,
        peersService,
        peerPort: args.peerPort,
        topology: topologyJson,
        timeoutSeconds: args.handoffTimeoutSeconds
      })
    }, { parent: this, dependsOn: [this.topology, this.peersService], deleteBeforeReplace: true })

    // The api source: a ServiceAccount that may read the topology ConfigMap and the EndpointSlices, nothing else.
    let serviceAccount: k8s.core.v1.ServiceAccount | undefined
    const access: pulumi.Resource[] = []
    if (args.topologySource === 'api') {
      const accountName = `${GATEWAY_STATEFULSET_NAME}-topology-reader`
      serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-account`, {
        metadata: { name: GATEWAY_STATEFULSET_NAME, namespace: args.namespace, labels }
      }, { parent: this })
      const role = new k8s.rbac.v1.Role(`${name}-topology-reader`, {
        metadata: { name: accountName, namespace: args.namespace, labels },
        rules: gatewayTopologyReaderRules(this.topology.metadata.name)
      }, { parent: this })
      const binding = new k8s.rbac.v1.RoleBinding(`${name}-topology-reader`, {
        metadata: { name: accountName, namespace: args.namespace, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name },
        subjects: [{ kind: 'ServiceAccount', name: serviceAccount.metadata.name, namespace: args.namespace }]
      }, { parent: this })
      access.push(serviceAccount, role, binding)
    }

    this.statefulSet = new k8s.apps.v1.StatefulSet(`${name}-statefulset`, {
      metadata: { name: GATEWAY_STATEFULSET_NAME, namespace: args.namespace, labels },
      spec: gatewayStatefulSetSpec(this.service.metadata.name, this.selector, labels, args, {
        configMap: this.topology.metadata.name,
        peersService,
        peersServiceName: this.peersService.metadata.name,
        ...(serviceAccount === undefined ? {} : { serviceAccount: serviceAccount.metadata.name })
      })
    }, { parent: this, dependsOn: [this.handoffBarrier, ...access] })

    this.disruptionBudget = new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, {
      metadata: { name: GATEWAY_STATEFULSET_NAME, namespace: args.namespace, labels },
      spec: maxOneUnavailable(this.selector)
    }, { parent: this })

    // Its Kubernetes name predates the move and stays: a new name would be a
    // new object, and so the same gap the alias avoids.
    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(`${name}-ingress`, {
      metadata: { name: `${APP}-to-gateway`, namespace: args.namespace, labels },
      spec: gatewayIngressPolicySpec(this.selector, args.clients, this.barrierSelector, { client: args.port, peer: args.peerPort, metrics: args.metricsPort })
    }, { parent: this, aliases: [FORMER_POLICY_URN] })

    this.namespace = this.statefulSet.metadata.namespace
    this.serviceName = this.service.metadata.name
    this.statefulSetName = this.statefulSet.metadata.name
    this.replicas = this.statefulSet.spec.replicas
    this.port = this.service.spec.ports.apply(ports => ports[0]?.port ?? args.port)
    this.peerPort = this.peersService.spec.ports.apply(ports => ports[0]?.port ?? args.peerPort)
    this.metricsPort = args.metricsPort
    this.healthPath = args.healthPath

    this.registerOutputs({
      serviceName: this.serviceName,
      statefulSetName: this.statefulSetName,
      replicas: this.replicas
    })
  }

  /** `http://gateway-<n>.gateway-internal.<ns>.svc.<domain>:<port>` for every ordinal. */
  podUrls (clusterDomain: string): pulumi.Output<string[]> {
    return pulumi.all([this.statefulSetName, this.serviceName, this.namespace, this.port, this.replicas])
      .apply(([statefulSet, service, ns, port, replicas]) => {
        const template = gatewayUrlTemplate({ statefulSet, service, port, domain: serviceDomain(ns, clusterDomain) })
        return Array.from({ length: replicas }, (_, n) => podUrl(template, n))
      })
  }
}
