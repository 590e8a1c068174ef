import * as k8s from '@pulumi/kubernetes'
import * as pulumi from '@pulumi/pulumi'
import { gatewayUrlTemplate, serviceDomain } from '../service/routing/pod-address'
import type { GatewayCluster } from './gateway-cluster'
import { maxOneUnavailable } from './gateway-specs'
import { APP, imageVersion, objectLabels, selectorLabels, type Labels } from './labels'
import {
  routerAutoscalerSpec, routerDeploymentSpec, routerServiceSpec, type RouterPodArgs
} from './router-specs'

export interface RouterTierArgs extends RouterPodArgs {
  readonly namespace: pulumi.Input<string>
  /** The gateway tier this router fronts: its pod count and names come from here. */
  readonly gateways: GatewayCluster
  readonly clusterDomain: string
  readonly minReplicas: number
  readonly maxReplicas: number
  readonly cpuTarget: number
  readonly scaleDownStabilizationSeconds: number
}

export const ROUTER_NAME = APP

/** The labels every router pod carries: the gateways admit exactly these to their client port. */
export const ROUTER_SELECTOR: Labels = selectorLabels(ROUTER_NAME, 'router')

/**
 * The stateless tier: the router Deployment, its Service, an autoscaling/v2
 * HPA and a PodDisruptionBudget. (Who may reach the gateways is the
 * gateways' NetworkPolicy, in GatewayCluster.)
 *
 * NUM_GATEWAY_PODS is the StatefulSet's `spec.replicas` Output, so the router
 * can never hash over a different count than the StatefulSet runs. Being an
 * Output, it also orders the rollout: the Deployment is sent only once the
 * StatefulSet is ready, and a change of gateway count rolls the routers.
 */
export class RouterTier extends pulumi.ComponentResource {
  readonly deployment: k8s.apps.v1.Deployment
  readonly service: k8s.core.v1.Service
  readonly autoscaler: k8s.autoscaling.v2.HorizontalPodAutoscaler
  readonly disruptionBudget: k8s.policy.v1.PodDisruptionBudget
  readonly selector: Labels
  readonly serviceName: pulumi.Output<string>

  constructor (name: string, args: RouterTierArgs, opts?: pulumi.ComponentResourceOptions) {
    // The type keeps its first name: it is part of every URN under it, and
    // renaming it would make existing stacks replace the router's objects.
    super(`${APP}:k8s:GuildRouter`, name, {}, opts)
    this.selector = ROUTER_SELECTOR
    const labels = objectLabels(this.selector, imageVersion(args.image))
    const meta = (suffix = ''): k8s.types.input.meta.v1.ObjectMeta => ({ name: `${ROUTER_NAME}${suffix}`, namespace: args.namespace, labels })
    const gw = args.gateways

    const urlTemplate = pulumi.all([gw.statefulSetName, gw.serviceName, gw.namespace, gw.port])
      .apply(([statefulSet, service, ns, port]) => gatewayUrlTemplate({
        statefulSet, service, port, domain: serviceDomain(ns, args.clusterDomain)
      }))

    this.deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, {
      metadata: meta(),
      spec: routerDeploymentSpec(this.selector, labels, { numPods: gw.replicas.apply(String), urlTemplate, healthPath: gw.healthPath }, args)
    }, { parent: this })

    this.service = new k8s.core.v1.Service(`${name}-service`, {
      metadata: meta(),
      spec: routerServiceSpec(this.selector, args.port)
    }, { parent: this })

    this.autoscaler = new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-hpa`, {
      metadata: meta(),
      spec: routerAutoscalerSpec(this.deployment.metadata.name, args)
    }, { parent: this })

    this.disruptionBudget = new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, {
      metadata: meta(),
      spec: maxOneUnavailable(this.selector)
    }, { parent: this })

    this.serviceName = this.service.metadata.name
    this.registerOutputs({ serviceName: this.serviceName, deploymentName: this.deployment.metadata.name })
  }
}
