import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as k8s from '@pulumi/kubernetes'
import type * as pulumi from '@pulumi/pulumi'
import { ComponentResource, type ComponentResourceOptions } from '@pulumi/pulumi'
import { parse } from 'yaml'
import type { IPodMonitor, IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1' with { 'resolution-mode': 'import' }
import { APP, appLabels, type Labels } from './labels'
import { METRICS_PATH } from './scrape'

/** The alerts, as Prometheus loads them and as `promtool test rules` checks them. */
export const RULES_FILE = join(__dirname, 'alerts', 'guild-router.rules.yaml')

export interface PrometheusOperatorArgs {
  readonly namespace: pulumi.Input<string>
  readonly podMonitor: boolean
  readonly prometheusRule: boolean
  /** What the operator's Prometheus selects these objects by (kube-prometheus-stack: release=<release>). */
  readonly labels: Readonly<Record<string, string>>
  readonly router: { readonly selector: Labels, readonly metricsPort: string }
  readonly gateway: { readonly selector: Labels, readonly metricsPort: string }
}

/** A PodMonitor's scrape of one tier: the container port by name, labelled as the operator labels every target. */
export function podMonitorSpec (selector: Labels, port: string): IPodMonitor['spec'] {
  return {
    selector: { matchLabels: selector },
    podMetricsEndpoints: [{ port, path: METRICS_PATH, interval: '15s' }]
  }
}

/** The rules file's groups, unchanged: one source for Prometheus, promtool and the operator. */
export function prometheusRuleSpec (rulesYaml: string): IPrometheusRule['spec'] {
  const parsed = parse(rulesYaml) as { groups?: unknown }
  if (!Array.isArray(parsed.groups)) throw new Error(`${RULES_FILE}: no rule groups`)
  return { groups: parsed.groups as IPrometheusRule['spec']['groups'] }
}

/**
 * The prometheus-operator objects, for clusters whose Prometheus the operator
 * runs (kube-prometheus-stack): it ignores the prometheus.io annotations and
 * scrapes only what a PodMonitor or ServiceMonitor selects, and loads rules
 * only from PrometheusRule objects. Needs the operator's CRDs in the cluster.
 */
export class PrometheusOperatorObjects extends ComponentResource {
  readonly podMonitors: k8s.apiextensions.CustomResource[] = []
  readonly rule: k8s.apiextensions.CustomResource | undefined

  constructor (name: string, args: PrometheusOperatorArgs, opts?: ComponentResourceOptions) {
    super(`${APP}:k8s:PrometheusOperatorObjects`, name, {}, opts)
    const metadata = (objectName: string): Record<string, unknown> => ({
      name: objectName,
      namespace: args.namespace,
      labels: { ...args.labels, ...appLabels() }
    })
    if (args.podMonitor) {
      for (const [tier, target] of [[APP, args.router], ['gateway', args.gateway]] as const) {
        this.podMonitors.push(new k8s.apiextensions.CustomResource(`${name}-${tier}-podmonitor`, {
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'PodMonitor',
          metadata: metadata(tier),
          spec: podMonitorSpec(target.selector, target.metricsPort)
        }, { parent: this }))
      }
    }
    if (args.prometheusRule) {
      this.rule = new k8s.apiextensions.CustomResource(`${name}-rules`, {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: metadata(APP),
        spec: prometheusRuleSpec(readFileSync(RULES_FILE, 'utf8'))
      }, { parent: this })
    }
    this.registerOutputs({})
  }
}
