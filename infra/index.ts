import * as pulumi from '@pulumi/pulumi'
import { AppNamespace } from './app-namespace'
import { GatewayCluster } from './gateway-cluster'
import { ROUTER_SELECTOR, RouterTier } from './router-tier'
import { GATEWAY_METRICS_PORT_NAME } from './gateway-specs'
import { PrometheusOperatorObjects } from './prometheus-operator'
import { APP } from './labels'
import { ROUTER_ADMIN_PORT_NAME } from './router-specs'
import { RouterDashboard } from './router-dashboard'
import { parseStackConfig } from './stack-config'

/**
 * The guild-router stack: wiring only. Each Kubernetes object is built in the
 * component for its concern; this file passes one component's Outputs to the
 * next so the two tiers cannot disagree.
 */
const raw = new pulumi.Config()
const config = parseStackConfig(key => raw.get(key))

/** Without a gateway image of its own, the router image runs the bundled reference gateway. */
const REFERENCE_GATEWAY_COMMAND = ['node', 'dist/service/gateway/reference-gateway-main.js']

const namespace = new AppNamespace(APP, { name: config.namespace, create: config.createNamespace })

const gateways = new GatewayCluster('gateway', {
  namespace: namespace.name,
  clusterDomain: config.clusterDomain,
  routingStrategy: config.routingStrategy,
  ...config.gateway,
  imagePullPolicy: config.imagePullPolicy,
  image: config.gateway.image ?? config.router.image,
  toolsImage: config.router.image,
  clients: ROUTER_SELECTOR,
  ...(config.gateway.image === undefined ? { command: REFERENCE_GATEWAY_COMMAND } : {})
})

const router = new RouterTier('router', {
  namespace: namespace.name,
  gateways,
  clusterDomain: config.clusterDomain,
  routingStrategy: config.routingStrategy,
  imagePullPolicy: config.imagePullPolicy,
  ...config.router
})

if (config.grafanaDashboard.enabled) {
  new RouterDashboard('dashboard', { namespace: config.grafanaDashboard.namespace ?? namespace.name }) // eslint-disable-line no-new
}

if (config.prometheusOperator.podMonitor || config.prometheusOperator.prometheusRule) {
  new PrometheusOperatorObjects('monitoring', { // eslint-disable-line no-new
    namespace: namespace.name,
    ...config.prometheusOperator,
    router: { selector: router.selector, metricsPort: ROUTER_ADMIN_PORT_NAME },
    gateway: { selector: gateways.selector, metricsPort: GATEWAY_METRICS_PORT_NAME }
  })
}

export const gatewayCount = gateways.replicas
export const gatewayPodUrls = gateways.podUrls(config.clusterDomain)
export const gatewayServiceName = gateways.serviceName
export const routerServiceName = router.serviceName
export const routerUrl = pulumi.interpolate`http://${router.serviceName}.${namespace.name}.svc.${config.clusterDomain}`
export const namespaceName = namespace.name
