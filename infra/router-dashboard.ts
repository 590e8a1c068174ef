import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as k8s from '@pulumi/kubernetes'
import * as pulumi from '@pulumi/pulumi'
import { APP, appLabels } from './labels'

export interface RouterDashboardArgs {
  readonly namespace: pulumi.Input<string>
}

/** The dashboard JSON kept in the repository, over the router's Prometheus metrics. */
export const DASHBOARD_FILE = join(__dirname, 'dashboards', 'guild-router.json')

/**
 * The Grafana dashboard as a ConfigMap labelled for Grafana's dashboard
 * sidecar (`grafana_dashboard: "1"`, the kube-prometheus-stack default), which
 * loads every such ConfigMap it can see.
 */
export class RouterDashboard extends pulumi.ComponentResource {
  readonly configMap: k8s.core.v1.ConfigMap

  constructor (name: string, args: RouterDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${APP}:k8s:RouterDashboard`, name, {}, opts)
    this.configMap = new k8s.core.v1.ConfigMap(`${name}-configmap`, {
      metadata: {
        name: 'guild-router-dashboard',
        namespace: args.namespace,
        labels: { grafana_dashboard: '1', ...appLabels() }
      },
      data: { 'guild-router.json': readFileSync(DASHBOARD_FILE, 'utf8') }
    }, { parent: this })
    this.registerOutputs({ configMapName: this.configMap.metadata.name })
  }
}
