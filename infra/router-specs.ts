import type * as k8s from '@pulumi/kubernetes'
import type * as pulumi from '@pulumi/pulumi'
import type { Labels } from './labels'
import { placementSpec, type Placement } from './placement'
import { prometheusAnnotations } from './scrape'
import { routerNodeOptions } from './memory'
import { restrictedContainerSecurity, restrictedPodSecurity } from './security'
import type { Resources } from './stack-config'

/** Pure spec builders for the router tier: the component wires them. */

/** The router container's admin port, by name: probes, metrics and a PodMonitor use it. */
export const ROUTER_ADMIN_PORT_NAME = 'admin'

export interface RouterPodArgs {
  readonly image: string
  readonly imagePullPolicy?: string
  readonly port: number
  readonly adminPort: number
  readonly routingStrategy: string
  readonly unrouted: string
  readonly requestDeadlineMs: number
  readonly drainSeconds: number
  readonly shutdownTimeoutSeconds: number
  readonly logLevel: string
  readonly resources: Resources
  readonly placement: Placement
}

/** What the router learns from the gateway tier: both are Outputs of its objects. */
export interface GatewayEndpoints {
  readonly numPods: pulumi.Input<string>
  readonly urlTemplate: pulumi.Input<string>
  /** What a gateway answers when it is up (its probes' path). */
  readonly healthPath: string
}

/** Seconds the kubelet waits after SIGTERM: the preStop pause, the drain, and a margin. */
export function terminationGraceSeconds (args: Pick<RouterPodArgs, 'drainSeconds' | 'shutdownTimeoutSeconds'>): number {
  return args.drainSeconds + args.shutdownTimeoutSeconds + 5
}

export function routerDeploymentSpec (selector: Labels, labels: Labels, gateways: GatewayEndpoints,
  args: RouterPodArgs): k8s.types.input.apps.v1.DeploymentSpec {
  return {
    // No `replicas`: the HPA owns the count. Setting it here would reset the
    // HPA's choice on every `pulumi up`.
    selector: { matchLabels: selector },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
    template: {
      metadata: {
        labels,
        annotations: prometheusAnnotations(args.adminPort)
      },
      spec: {
        securityContext: restrictedPodSecurity,
        terminationGracePeriodSeconds: terminationGraceSeconds(args),
        // Counted per ReplicaSet, so a rollout is spread by its new pods alone.
        ...placementSpec(selector, args.placement, 'pod-template-hash'),
        containers: [{
          name: 'router',
          image: args.image,
          ...(args.imagePullPolicy === undefined ? {} : { imagePullPolicy: args.imagePullPolicy }),
          ports: [
            { name: 'http', containerPort: args.port, protocol: 'TCP' },
            { name: ROUTER_ADMIN_PORT_NAME, containerPort: args.adminPort, protocol: 'TCP' }
          ],
          env: [
            { name: 'NUM_GATEWAY_PODS', value: gateways.numPods },
            { name: 'GATEWAY_URL_TEMPLATE', value: gateways.urlTemplate },
            { name: 'ROUTING_STRATEGY', value: args.routingStrategy },
            { name: 'UNROUTED', value: args.unrouted },
            { name: 'PORT', value: String(args.port) },
            { name: 'ADMIN_PORT', value: String(args.adminPort) },
            { name: 'REQUEST_DEADLINE_MS', value: String(args.requestDeadlineMs) },
            // Active checks of ejected pods only. Without them an ejected
            // gateway that came back stays ejected (then half-open) at each
            // router until traffic for it arrives, and the first burst meets
            // 503s while the one probe request is out.
            { name: 'HEALTH_CHECK_PATH', value: gateways.healthPath },
            // The pause happens in preStop, before SIGTERM; by then endpoints
            // no longer send new connections, so the router need not wait again.
            { name: 'DRAIN_DELAY_MS', value: '0' },
            { name: 'SHUTDOWN_TIMEOUT_MS', value: String(args.shutdownTimeoutSeconds * 1000) },
            { name: 'LOG_LEVEL', value: args.logLevel },
            // The heap cap follows the pod's memory limit (memory.ts); the
            // image's CMD holds the flags that do not depend on it.
            { name: 'NODE_OPTIONS', value: routerNodeOptions(args.resources.memoryLimit) }
          ],
          // The router warms its code up before it opens a port (about 1 s on
          // a free core, longer on a busy node); liveness waits for this.
          startupProbe: { httpGet: { path: '/healthz', port: ROUTER_ADMIN_PORT_NAME }, periodSeconds: 1, failureThreshold: 60, timeoutSeconds: 2 },
          readinessProbe: { httpGet: { path: '/readyz', port: ROUTER_ADMIN_PORT_NAME }, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2 },
          livenessProbe: { httpGet: { path: '/healthz', port: ROUTER_ADMIN_PORT_NAME }, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 },
          ...(args.drainSeconds > 0 ? { lifecycle: { preStop: { sleep: { seconds: args.drainSeconds } } } } : {}),
          resources: {
            // The HPA's CPU target is a percentage of this request.
            requests: { cpu: args.resources.cpuRequest, memory: args.resources.memoryRequest },
            limits: { memory: args.resources.memoryLimit }
          },
          securityContext: restrictedContainerSecurity
        }]
      }
    }
  }
}

export function routerServiceSpec (selector: Labels, port: number): k8s.types.input.core.v1.ServiceSpec {
  return {
    type: 'ClusterIP',
    selector,
    // Only the proxy port: the admin port stays reachable per pod, never through the Service.
    ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]
  }
}

export function routerAutoscalerSpec (deploymentName: pulumi.Input<string>, bounds: {
  minReplicas: number, maxReplicas: number, cpuTarget: number, scaleDownStabilizationSeconds: number
}): k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerSpec {
  return {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName },
    minReplicas: bounds.minReplicas,
    maxReplicas: bounds.maxReplicas,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: bounds.cpuTarget } } }],
    behavior: { scaleDown: { stabilizationWindowSeconds: bounds.scaleDownStabilizationSeconds } }
  }
}
