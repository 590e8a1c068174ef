import * as k8s from '@pulumi/kubernetes'
import * as pulumi from '@pulumi/pulumi'
import { GATEWAY_SERVICE_NAME, GATEWAY_STATEFULSET_NAME } from '../service/gateway-contract'
import {
  gatewayStatefulSetSpec, headlessServiceSpec, maxOneUnavailable, peersServiceSpec, topologyData, type GatewayPodArgs
} from './gateway-specs'
import { imageVersion, objectLabels, selectorLabels, type Labels } from './labels'

export interface GatewayClusterArgs extends GatewayPodArgs {
  readonly namespace: pulumi.Input<string>
  readonly clusterDomain: string
}

/**
 * The stateful tier: the headless Service `gateway-internal`, the StatefulSet
 * `gateway` with a volume per pod for its guilds' SQLite files, and a
 * PodDisruptionBudget. Everything the router needs to reach pod n comes out
 * of here as Outputs, so the router is built from these objects, not from
 * literals that could drift.
 */
export class GatewayCluster extends pulumi.ComponentResource {
  readonly service: k8s.core.v1.Service
  /** Lists every gateway pod, Ready or not, for the ownership protocol. */
  readonly peersService: k8s.core.v1.Service
  /** The topology the gateways follow; updated in place on a rescale. */
  readonly topology: k8s.core.v1.ConfigMap
  readonly statefulSet: k8s.apps.v1.StatefulSet
  readonly disruptionBudget: k8s.policy.v1.PodDisruptionBudget
  readonly selector: Labels
  readonly namespace: pulumi.Output<string>
  readonly serviceName: pulumi.Output<string>
  readonly statefulSetName: pulumi.Output<string>
  /** The StatefulSet's own `spec.replicas`: the router hashes over exactly this. */
  readonly replicas: pulumi.Output<number>
  readonly port: pulumi.Output<number>

  constructor (name: string, args: GatewayClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('guild-router:k8s:GatewayCluster', name, {}, opts)
    this.selector = selectorLabels('guild-gateway', 'gateway')
    const labels = objectLabels(this.selector, imageVersion(args.image))

    // Fixed names: `gateway-<n>.gateway-internal` is the DNS contract the router dials.
    this.service = new k8s.core.v1.Service(`${name}-service`, {
      metadata: { name: GATEWAY_SERVICE_NAME, namespace: args.namespace, labels },
      spec: headlessServiceSpec(this.selector, args.port)
    }, { parent: this })

    this.peersService = new k8s.core.v1.Service(`${name}-peers`, {
      metadata: { name: `${GATEWAY_STATEFULSET_NAME}-peers`, namespace: args.namespace, labels },
      spec: peersServiceSpec(this.selector, args.port)
    }, { parent: this })

    // A fixed name, so a new count is an in-place update (the stack enables
    // mutable ConfigMaps) that kubelet carries into the running pods.
    this.topology = new k8s.core.v1.ConfigMap(`${name}-topology`, {
      metadata: { name: `${GATEWAY_STATEFULSET_NAME}-topology`, namespace: args.namespace, labels },
      data: topologyData(args.replicas, args.routingStrategy)
    }, { parent: this })

    // The StatefulSet depends on the ConfigMap, so on a scale-up new pods start
    // with the new topology, and on a scale-down the ConfigMap changes first.
    this.statefulSet = new k8s.apps.v1.StatefulSet(`${name}-statefulset`, {
      metadata: { name: GATEWAY_STATEFULSET_NAME, namespace: args.namespace, labels },
      spec: gatewayStatefulSetSpec(this.service.metadata.name, this.selector, labels, args, {
        configMap: this.topology.metadata.name,
        peersService: pulumi.interpolate`${this.peersService.metadata.name}.${this.peersService.metadata.namespace}.svc.${args.clusterDomain}`
      })
    }, { parent: this })

    this.disruptionBudget = new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, {
      metadata: { name: GATEWAY_STATEFULSET_NAME, namespace: args.namespace, labels },
      spec: maxOneUnavailable(this.selector)
    }, { parent: this })

    this.namespace = this.statefulSet.metadata.namespace
    this.serviceName = this.service.metadata.name
    this.statefulSetName = this.statefulSet.metadata.name
    this.replicas = this.statefulSet.spec.replicas
    this.port = this.service.spec.ports.apply(ports => ports[0]?.port ?? args.port)

    this.registerOutputs({
      serviceName: this.serviceName,
      statefulSetName: this.statefulSetName,
      replicas: this.replicas
    })
  }

  /** `http://gateway-<n>.gateway-internal.<ns>.svc.<domain>:<port>` for every ordinal. */
  podUrls (clusterDomain: string): pulumi.Output<string[]> {
    return pulumi.all([this.statefulSetName, this.serviceName, this.namespace, this.port, this.replicas])
      .apply(([sts, svc, ns, port, replicas]) => Array.from({ length: replicas },
        (_, n) => `http://${sts}-${n}.${svc}.${ns}.svc.${clusterDomain}:${port}`))
  }
}
