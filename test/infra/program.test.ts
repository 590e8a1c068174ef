import { describe, expect, it } from 'vitest'
import { runProgram, stackConfig, type ProgramRun } from './pulumi-harness'

const T = {
  ns: 'kubernetes:core/v1:Namespace',
  svc: 'kubernetes:core/v1:Service',
  sts: 'kubernetes:apps/v1:StatefulSet',
  deploy: 'kubernetes:apps/v1:Deployment',
  hpa: 'kubernetes:autoscaling/v2:HorizontalPodAutoscaler',
  pdb: 'kubernetes:policy/v1:PodDisruptionBudget',
  netpol: 'kubernetes:networking.k8s.io/v1:NetworkPolicy',
  cm: 'kubernetes:core/v1:ConfigMap',
  job: 'kubernetes:batch/v1:Job'
}

function env (run: ProgramRun, name: string): string | undefined {
  const container = run.one(T.deploy).inputs.spec.template.spec.containers[0]
  return (container.env as Array<{ name: string, value?: string }>).find(e => e.name === name)?.value
}

function services (run: ProgramRun) {
  return run.resources.filter(r => r.type === T.svc)
}

describe('the staging stack', () => {
  it('provisions each object once, with the contract names', async () => {
    const run = await runProgram(stackConfig())
    expect(run.one(T.sts).inputs.metadata.name).toBe('gateway')
    expect(services(run).map(s => s.inputs.metadata.name).sort()).toEqual(['gateway-internal', 'gateway-peers', 'guild-router'])
    expect(run.one(T.cm).inputs.metadata.name).toBe('gateway-topology')
    expect(run.one(T.deploy).inputs.metadata.name).toBe('guild-router')
    expect(run.one(T.hpa)).toBeDefined()
    expect(run.one(T.netpol)).toBeDefined()
    expect(run.resources.filter(r => r.type === T.pdb)).toHaveLength(2)
    for (const r of run.resources.filter(r => r.type.startsWith('kubernetes:') && r.type !== T.ns)) {
      expect(r.inputs.metadata.namespace, r.name).toBe('guild-router-staging')
    }
  })
})

describe('one source of truth for the gateway count', () => {
  it('for every count from 1 to 64, NUM_GATEWAY_PODS equals the StatefulSet replicas and the URLs name its pods', async () => {
    for (let n = 1; n <= 64; n++) {
      const run = await runProgram(stackConfig('staging', { gatewayReplicas: String(n) }))
      const sts = run.one(T.sts).inputs
      expect(sts.spec.replicas).toBe(n)
      expect(env(run, 'NUM_GATEWAY_PODS')).toBe(String(n))
      expect(run.outputs.gatewayCount).toBe(n)
      const urls = run.outputs.gatewayPodUrls as string[]
      expect(urls).toHaveLength(n)
      expect(urls[n - 1]).toBe(`http://gateway-${n - 1}.gateway-internal.guild-router-staging.svc.cluster.local:3000`)
      // The gateways read the same count from the topology ConfigMap, not from their pod template.
      const gwEnv = sts.spec.template.spec.containers[0].env as Array<{ name: string, value?: string }>
      expect(gwEnv.map(e => e.name)).not.toContain('NUM_GATEWAY_PODS')
      expect(JSON.parse(run.one(T.cm).inputs.data['topology.json'] as string)).toEqual({ strategy: 'jump', count: n })
    }
  }, 240_000)

  it('a new count changes the topology ConfigMap and the replicas, and nothing in the gateway pod template', async () => {
    const three = await runProgram(stackConfig('staging', { gatewayReplicas: '3' }))
    const four = await runProgram(stackConfig('staging', { gatewayReplicas: '4' }))
    expect(JSON.stringify(four.one(T.sts).inputs.spec.template)).toBe(JSON.stringify(three.one(T.sts).inputs.spec.template))
    expect(four.one(T.cm).inputs.data).not.toEqual(three.one(T.cm).inputs.data)
  })
})

describe('wiring', () => {
  it('the StatefulSet is governed by the headless Service', async () => {
    const run = await runProgram(stackConfig())
    const headless = services(run).find(s => s.inputs.spec.clusterIP === 'None')
    expect(headless?.inputs.metadata.name).toBe('gateway-internal')
    expect(run.one(T.sts).inputs.spec.serviceName).toBe(headless?.inputs.metadata.name)
  })

  it('the router URL template resolves to the StatefulSet pod names in the namespace and port', async () => {
    const run = await runProgram(stackConfig('staging', { gatewayPort: '3100', namespace: 'bots' }))
    const template = env(run, 'GATEWAY_URL_TEMPLATE')
    const sts = run.one(T.sts).inputs
    const headless = services(run).find(s => s.inputs.spec.clusterIP === 'None')!.inputs
    expect(template).toBe(`http://${sts.metadata.name}-{ordinal}.${headless.metadata.name}.bots.svc.cluster.local:3100`)
    expect(headless.spec.ports[0].port).toBe(3100)
    expect(sts.spec.template.spec.containers[0].ports[0].containerPort).toBe(3100)
    expect(template?.replace('{ordinal}', '2')).toBe((run.outputs.gatewayPodUrls as string[])[2])
  })

  it('the routers health-check an ejected gateway at the path its readiness probe uses, on the port they dial', async () => {
    const run = await runProgram(stackConfig('staging', { gatewayHealthPath: '/live' }))
    const gateway = run.one(T.sts).inputs.spec.template.spec.containers[0]
    expect(env(run, 'HEALTH_CHECK_PATH')).toBe('/live')
    expect(gateway.readinessProbe.httpGet).toEqual({ path: '/live', port: 'http' })
    const http = (gateway.ports as Array<{ name: string, containerPort: number }>).find(p => p.name === 'http')
    expect(env(run, 'GATEWAY_URL_TEMPLATE')).toMatch(new RegExp(`:${String(http?.containerPort)}$`))
  })

  it('every selector matches its pod template labels, and every Service selects pods that exist', async () => {
    const run = await runProgram(stackConfig())
    const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
      Object.entries(selector).every(([k, v]) => labels[k] === v)
    const sts = run.one(T.sts).inputs
    const deploy = run.one(T.deploy).inputs
    expect(matches(sts.spec.selector.matchLabels, sts.spec.template.metadata.labels)).toBe(true)
    expect(matches(deploy.spec.selector.matchLabels, deploy.spec.template.metadata.labels)).toBe(true)
    const podLabels = [sts.spec.template.metadata.labels, deploy.spec.template.metadata.labels]
    for (const svc of services(run)) {
      expect(podLabels.filter(l => matches(svc.inputs.spec.selector, l)), svc.inputs.metadata.name).toHaveLength(1)
    }
    for (const pdb of run.resources.filter(r => r.type === T.pdb)) {
      expect(podLabels.filter(l => matches(pdb.inputs.spec.selector.matchLabels, l))).toHaveLength(1)
    }
    const policy = run.one(T.netpol).inputs.spec
    expect(matches(policy.podSelector.matchLabels, sts.spec.template.metadata.labels)).toBe(true)
    // The client port admits routers only; the peer port (handoffs) admits gateways and the barrier only.
    expect(policy.ingress).toHaveLength(3)
    expect(policy.ingress[0].from).toHaveLength(1)
    expect(matches(policy.ingress[0].from[0].podSelector.matchLabels, deploy.spec.template.metadata.labels)).toBe(true)
    expect(policy.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 3000 }])
    const barrier = run.one(T.job).inputs
    expect(policy.ingress[1].from).toHaveLength(2)
    expect(matches(policy.ingress[1].from[0].podSelector.matchLabels, sts.spec.template.metadata.labels)).toBe(true)
    expect(matches(policy.ingress[1].from[1].podSelector.matchLabels, barrier.spec.template.metadata.labels)).toBe(true)
    expect(matches(policy.ingress[1].from[1].podSelector.matchLabels, deploy.spec.template.metadata.labels)).toBe(false)
    expect(policy.ingress[1].ports).toEqual([{ protocol: 'TCP', port: 3001 }])
    expect(policy.ingress[2]).toEqual({ ports: [{ protocol: 'TCP', port: 3002 }] })
    // Selectors hold no version: they are immutable, and images change.
    expect(Object.keys(sts.spec.selector.matchLabels)).not.toContain('app.kubernetes.io/version')
  })

  it('the HPA scales the router Deployment within the configured bounds; the Deployment has no replicas', async () => {
    const run = await runProgram(stackConfig('staging', { routerMinReplicas: '3', routerMaxReplicas: '7', routerCpuTarget: '55' }))
    const hpa = run.one(T.hpa).inputs.spec
    const deploy = run.one(T.deploy).inputs
    expect(hpa.minReplicas).toBe(3)
    expect(hpa.maxReplicas).toBe(7)
    expect(hpa.metrics[0].resource.target.averageUtilization).toBe(55)
    expect(hpa.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deploy.metadata.name })
    expect(hpa.behavior.scaleDown.stabilizationWindowSeconds).toBe(300)
    expect(deploy.spec).not.toHaveProperty('replicas')
  })

  it('every container requests CPU and memory and runs restricted', async () => {
    const run = await runProgram(stackConfig())
    for (const type of [T.sts, T.deploy]) {
      const pod = run.one(type).inputs.spec.template.spec
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } })
      for (const c of pod.containers) {
        expect(c.resources.requests.cpu, c.name).toMatch(/^\d+m?$/)
        expect(c.resources.requests.memory, c.name).toBeDefined()
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }
        })
      }
    }
  })

  it('the router drains: preStop pause, then a grace period longer than pause plus shutdown', async () => {
    const run = await runProgram(stackConfig('staging', { routerDrainSeconds: '7', routerShutdownTimeoutSeconds: '12' }))
    const pod = run.one(T.deploy).inputs.spec.template.spec
    expect(pod.containers[0].lifecycle.preStop.sleep.seconds).toBe(7)
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(7 + 12)
    expect(env(run, 'SHUTDOWN_TIMEOUT_MS')).toBe('12000')
    expect(pod.containers[0].readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' })
    expect(pod.containers[0].livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' })
  })

  it('the router\'s heap cap follows its memory limit, and liveness waits out the start-up warm-up', async () => {
    for (const [limit, oldSpace] of [['192Mi', 92], ['1Gi', 924], ['0.25Gi', 156]] as const) {
      const run = await runProgram(stackConfig('staging', { routerMemoryLimit: limit }))
      expect(env(run, 'NODE_OPTIONS')).toBe(`--max-old-space-size=${oldSpace}`)
      expect(run.one(T.deploy).inputs.spec.template.spec.containers[0].resources.limits.memory).toBe(limit)
    }
    const pod = (await runProgram(stackConfig())).one(T.deploy).inputs.spec.template.spec
    expect(pod.containers[0].startupProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'admin' } })
    expect(pod.containers[0].startupProbe.periodSeconds * pod.containers[0].startupProbe.failureThreshold).toBeGreaterThanOrEqual(30)
  })

  it('gateways get their ordinal from the pod-index label and keep data on a volume per pod', async () => {
    const run = await runProgram(stackConfig('staging', { gatewayStorageClass: 'fast-ssd' }))
    const sts = run.one(T.sts).inputs.spec
    const container = sts.template.spec.containers[0]
    expect(container.env.find((e: { name: string }) => e.name === 'ORDINAL').valueFrom.fieldRef.fieldPath)
      .toBe("metadata.labels['apps.kubernetes.io/pod-index']")
    expect(env(run, 'ROUTING_STRATEGY')).toBe('jump')
    // By default the topology and the peers come from the API server: the
    // ConfigMap and the peers Service's EndpointSlices, watched.
    const gwEnv = (c: { env: Array<{ name: string, value?: string, valueFrom?: unknown }> }): Record<string, unknown> =>
      Object.fromEntries(c.env.map(e => [e.name, e.value ?? e.valueFrom]))
    expect(gwEnv(container)).toMatchObject({
      TOPOLOGY_CONFIGMAP: 'gateway-topology',
      TOPOLOGY_KEY: 'topology.json',
      PEERS_ENDPOINTSLICES: 'gateway-peers',
      POD_NAMESPACE: { fieldRef: { fieldPath: 'metadata.namespace' } },
      TOPOLOGY_LIST_FRESHNESS_MS: '5000'
    })
    expect(Object.keys(gwEnv(container))).not.toContain('TOPOLOGY_FILE')
    expect(sts.template.spec.volumes.map((v: { name: string }) => v.name)).not.toContain('topology')
    expect(sts.template.spec).toMatchObject({ serviceAccountName: 'gateway', automountServiceAccountToken: true })
    // With the file source, the ConfigMap is mounted as a directory (a subPath mount would never refresh),
    // and peers are found through the Service that lists not-ready pods too.
    const fileRun = await runProgram(stackConfig('staging', { gatewayTopologySource: 'file' }))
    const fileSpec = fileRun.one(T.sts).inputs.spec.template.spec
    expect(fileSpec.containers[0].volumeMounts).toContainEqual({ name: 'topology', mountPath: '/etc/guild-router/topology', readOnly: true })
    expect(fileSpec.volumes).toContainEqual({ name: 'topology', configMap: { name: 'gateway-topology' } })
    expect(gwEnv(fileSpec.containers[0])).toMatchObject({
      TOPOLOGY_FILE: '/etc/guild-router/topology/topology.json',
      PEERS_SERVICE: 'gateway-peers.guild-router-staging.svc.cluster.local.',
      TOPOLOGY_LIST_FRESHNESS_MS: '30000'
    })
    expect(fileSpec.serviceAccountName).toBeUndefined()
    expect(fileRun.resources.filter(r => r.type.startsWith('kubernetes:rbac') || r.type === 'kubernetes:core/v1:ServiceAccount')).toEqual([])
    const peers = services(run).find(s => s.inputs.metadata.name === 'gateway-peers')
    expect(peers?.inputs.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true })
    expect(container.livenessProbe).toMatchObject({ tcpSocket: { port: 'http' } })
    expect(sts.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'fast-ssd', resources: { requests: { storage: '2Gi' } } })
    expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' })
    expect(container.readinessProbe.httpGet.path).toBe('/healthz')
  })

  it('with the api source, the gateways may read their ConfigMap and EndpointSlices, and nothing else', async () => {
    const run = await runProgram(stackConfig())
    const account = run.one('kubernetes:core/v1:ServiceAccount').inputs
    const role = run.one('kubernetes:rbac.authorization.k8s.io/v1:Role').inputs
    const binding = run.one('kubernetes:rbac.authorization.k8s.io/v1:RoleBinding').inputs
    expect(account.metadata.name).toBe('gateway')
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['gateway-topology'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] }
    ])
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name })
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'gateway', namespace: 'guild-router-staging' }])
  })

  it('gateways serve peers on a port of their own, and a handoff barrier Job follows the topology, in the router image', async () => {
    const run = await runProgram(stackConfig('staging', { gatewayReplicas: '4', gatewayHandoffTimeoutSeconds: '900' }))
    const container = run.one(T.sts).inputs.spec.template.spec.containers[0]
    expect(container.ports).toEqual([{ name: 'http', containerPort: 3000, protocol: 'TCP' }, { name: 'peer', containerPort: 3001, protocol: 'TCP' }, { name: 'metrics', containerPort: 3002, protocol: 'TCP' }])
    expect(container.env.find((e: { name: string }) => e.name === 'PEER_PORT').value).toBe('3001')
    const peers = services(run).find(s => s.inputs.metadata.name === 'gateway-peers')!.inputs.spec
    expect(peers.ports).toEqual([{ name: 'peer', port: 3001, targetPort: 'peer', protocol: 'TCP' }])
    expect(peers.publishNotReadyAddresses).toBe(true)
    const job = run.one(T.job).inputs
    const barrier = job.spec.template.spec.containers[0]
    const jobEnv = Object.fromEntries((barrier.env as Array<{ name: string, value: string }>).map(e => [e.name, e.value]))
    // The barrier waits for exactly the topology the ConfigMap carries.
    expect(jobEnv.TARGET_TOPOLOGY).toBe(run.one(T.cm).inputs.data['topology.json'])
    expect(JSON.parse(jobEnv.TARGET_TOPOLOGY!)).toEqual({ strategy: 'jump', count: 4 }) // staging's strategy
    expect(jobEnv.PEERS_SERVICE).toBe('gateway-peers.guild-router-staging.svc.cluster.local.')
    expect(jobEnv.PEER_PORT).toBe('3001')
    expect(barrier.image).toBe(run.one(T.deploy).inputs.spec.template.spec.containers[0].image)
    expect(barrier.command).toEqual(['node', 'dist/service/gateway/handoff-barrier-main.js'])
    expect(job.spec.activeDeadlineSeconds).toBe(900)
    expect(job.metadata.annotations['pulumi.com/timeoutSeconds']).toBe('960')
    expect(job.spec.template.spec.restartPolicy).toBe('Never')
  })

  it('without a gateway image, the router image runs the bundled reference gateway', async () => {
    const run = await runProgram(stackConfig())
    const container = run.one(T.sts).inputs.spec.template.spec.containers[0]
    expect(container.image).toBe('registry.example.com/guild-router:0.1.0')
    expect(container.command).toEqual(['node', 'dist/service/gateway/reference-gateway-main.js'])
    const own = await runProgram(stackConfig('staging', { gatewayImage: 'registry.example.com/bot-gateway:4.2' }))
    const ownContainer = own.one(T.sts).inputs.spec.template.spec.containers[0]
    expect(ownContainer.image).toBe('registry.example.com/bot-gateway:4.2')
    expect(ownContainer).not.toHaveProperty('command')
  })

  it('imagePullPolicy applies to both tiers\' containers when set, and is left to Kubernetes when empty', async () => {
    const containers = (run: Awaited<ReturnType<typeof runProgram>>): Array<Record<string, unknown>> =>
      [T.sts, 'kubernetes:apps/v1:Deployment'].map(t => run.one(t).inputs.spec.template.spec.containers[0] as Record<string, unknown>)
    for (const c of containers(await runProgram(stackConfig()))) expect(c).not.toHaveProperty('imagePullPolicy')
    for (const c of containers(await runProgram(stackConfig('staging', { imagePullPolicy: 'Never' })))) expect(c.imagePullPolicy).toBe('Never')
  })

  it('createNamespace=false references the namespace without creating it', async () => {
    const run = await runProgram(stackConfig('staging', { createNamespace: 'false' }))
    expect(run.resources.filter(r => r.type === T.ns)).toHaveLength(0)
    expect(run.one(T.deploy).inputs.metadata.namespace).toBe('guild-router-staging')
  })

  it('stack outputs name the gateways and the router Service', async () => {
    const run = await runProgram(stackConfig())
    expect(run.outputs).toMatchObject({
      gatewayCount: 3,
      routerServiceName: 'guild-router',
      gatewayServiceName: 'gateway-internal',
      namespaceName: 'guild-router-staging',
      routerUrl: 'http://guild-router.guild-router-staging.svc.cluster.local'
    })
  })
})

describe('the Grafana dashboard', () => {
  it('is shipped as a ConfigMap for the Grafana sidecar only when asked for', async () => {
    const off = await runProgram(stackConfig())
    const dashboards = (run: ProgramRun): ProgramRun['resources'] => run.resources.filter(r => r.type === T.cm && r.inputs.metadata.name !== 'gateway-topology')
    expect(dashboards(off)).toHaveLength(0)
    const on = await runProgram(stackConfig('staging', { grafanaDashboard: 'true', grafanaDashboardNamespace: 'monitoring' }))
    const cm = dashboards(on)[0]!.inputs
    expect(cm.metadata).toMatchObject({ namespace: 'monitoring', labels: { grafana_dashboard: '1' } })
    const dashboard = JSON.parse(cm.data['guild-router.json'] as string) as { uid: string, panels: unknown[] }
    expect(dashboard.uid).toBe('guild-router')
    expect(dashboard.panels.length).toBeGreaterThan(5)
  })
})

describe('scraping and alerting', () => {
  const podMonitors = (run: ProgramRun): ProgramRun['resources'] => run.resources.filter(r => r.inputs.kind === 'PodMonitor')
  const rules = (run: ProgramRun): ProgramRun['resources'] => run.resources.filter(r => r.inputs.kind === 'PrometheusRule')

  it('gateways serve /metrics on a port of their own, named in prometheus.io annotations, open to any scraper and to nothing else new', async () => {
    const run = await runProgram(stackConfig())
    const template = run.one(T.sts).inputs.spec.template
    const container = template.spec.containers[0]
    expect(template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '3002', 'prometheus.io/path': '/metrics' })
    expect(container.ports).toContainEqual({ name: 'metrics', containerPort: 3002, protocol: 'TCP' })
    expect(container.env).toContainEqual({ name: 'METRICS_PORT', value: '3002' })
    const ingress = run.one(T.netpol).inputs.spec.ingress as Array<{ from?: unknown[], ports: Array<{ port: number }> }>
    expect(ingress.filter(rule => rule.from === undefined).map(rule => rule.ports.map(p => p.port))).toEqual([[3002]])
  })

  it('creates no prometheus-operator object unless asked: clusters without its CRDs would fail', async () => {
    const run = await runProgram(stackConfig())
    expect(podMonitors(run)).toEqual([])
    expect(rules(run)).toEqual([])
  })

  it('podMonitor selects each tier\'s pods and metrics port, with the labels the operator selects by', async () => {
    const run = await runProgram(stackConfig('staging', { podMonitor: 'true', prometheusOperatorLabels: 'release=kube-prometheus-stack,team=bots' }))
    const monitors = podMonitors(run).map(r => r.inputs)
    expect(monitors.map(m => m.metadata.name).sort()).toEqual(['gateway', 'guild-router'])
    const byName = Object.fromEntries(monitors.map(m => [m.metadata.name, m]))
    expect(byName['guild-router'].spec.selector.matchLabels).toEqual(run.one(T.deploy).inputs.spec.selector.matchLabels)
    expect(byName['guild-router'].spec.podMetricsEndpoints[0].port).toBe('admin')
    expect(byName.gateway.spec.selector.matchLabels).toEqual(run.one(T.sts).inputs.spec.selector.matchLabels)
    expect(byName.gateway.spec.podMetricsEndpoints[0].port).toBe('metrics')
    for (const m of monitors) expect(m.metadata).toMatchObject({ namespace: 'guild-router-staging', labels: { release: 'kube-prometheus-stack', team: 'bots' } })
    expect(rules(run)).toEqual([])
  })

  it('prometheusRule carries every alert of the rules file', async () => {
    const run = await runProgram(stackConfig('staging', { prometheusRule: 'true' }))
    const groups = rules(run)[0]!.inputs.spec.groups as Array<{ rules: Array<{ alert: string }> }>
    expect(groups.flatMap(g => g.rules.map(r => r.alert))).toEqual([
      'GuildGatewayUnreachable', 'GuildRouterErrorRatioHigh', 'GuildRouterRetryBudgetExhausted',
      'GuildRouterTopologyDisagreement', 'GuildGatewayRescaleNotSettled', 'GuildGatewayHandoffStuck'
    ])
  })
})

describe('placement across nodes and zones', () => {
  const specs = (run: ProgramRun): Array<[string, Record<string, any>]> => [ // eslint-disable-line @typescript-eslint/no-explicit-any
    ['gateway', run.one(T.sts).inputs.spec.template.spec],
    ['router', run.one(T.deploy).inputs.spec.template.spec]
  ]

  it('by default both tiers spread softly by zone and by node, each counting its own pods', async () => {
    const run = await runProgram(stackConfig())
    for (const [tier, spec] of specs(run)) {
      const selector = tier === 'gateway' ? run.one(T.sts).inputs.spec.selector.matchLabels : run.one(T.deploy).inputs.spec.selector.matchLabels
      expect(spec.topologySpreadConstraints, tier).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map(topologyKey => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: selector },
        ...(tier === 'router' ? { matchLabelKeys: ['pod-template-hash'] } : {})
      })))
      expect(spec.nodeSelector, tier).toBeUndefined()
      expect(spec.tolerations, tier).toBeUndefined()
      expect(spec.priorityClassName, tier).toBeUndefined()
    }
  })

  it('hard spreading, none, node selectors, tolerations and a gateway priority class, each tier on its own keys', async () => {
    const run = await runProgram(stackConfig('staging', {
      gatewaySpread: 'hard',
      routerSpread: 'none',
      gatewayNodeSelector: 'pool=gateways,disk=ssd',
      routerTolerations: 'dedicated=bots:NoSchedule,spot:NoExecute,maintenance',
      gatewayPriorityClassName: 'guild-gateways'
    }))
    const [[, gateway], [, router]] = specs(run) as [[string, Record<string, any>], [string, Record<string, any>]] // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(gateway.topologySpreadConstraints.map((c: { whenUnsatisfiable: string }) => c.whenUnsatisfiable)).toEqual(['DoNotSchedule', 'DoNotSchedule'])
    expect(gateway.nodeSelector).toEqual({ pool: 'gateways', disk: 'ssd' })
    expect(gateway.priorityClassName).toBe('guild-gateways')
    expect(gateway.tolerations).toBeUndefined()
    expect(router.topologySpreadConstraints).toBeUndefined()
    expect(router.nodeSelector).toBeUndefined()
    expect(router.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'bots', effect: 'NoSchedule' },
      { key: 'spot', operator: 'Exists', effect: 'NoExecute' },
      { key: 'maintenance', operator: 'Exists' }
    ])
    expect(router.priorityClassName).toBeUndefined()
  })
})

describe('bad configuration fails before anything is created, naming the key', () => {
  it.each([
    [{ routerMinReplicas: '5', routerMaxReplicas: '3' }, 'guild-router:routerMinReplicas (5) must not exceed guild-router:routerMaxReplicas (3)'],
    [{ gatewayReplicas: '0' }, 'guild-router:gatewayReplicas must be an integer from 1 to 1000 (got "0")'],
    [{ gatewayReplicas: 'three' }, 'guild-router:gatewayReplicas must be an integer from 1 to 1000 (got "three")'],
    [{ routingStrategy: 'ring' }, 'guild-router:routingStrategy must be one of md5-mod, jump, discord-shard (got "ring")'],
    [{ routerCpuTarget: '150' }, 'guild-router:routerCpuTarget must be an integer from 1 to 100 (got "150")'],
    [{ gatewayStorageSize: 'lots' }, 'guild-router:gatewayStorageSize must be a Kubernetes quantity such as 250m, 512Mi or 10Gi (got "lots")'],
    [{ namespace: 'Bots_Prod' }, 'guild-router:namespace must be a DNS label'],
    [{ routerImage: '' }, 'guild-router:routerImage is required'],
    [{ routerAdminPort: '8080' }, 'guild-router:routerAdminPort must differ from guild-router:routerPort (both 8080)'],
    [{ gatewayPeerPort: '3000' }, 'guild-router:gatewayPeerPort must differ from guild-router:gatewayPort (both 3000)'],
    [{ gatewayMetricsPort: '3001' }, 'guild-router:gatewayMetricsPort must differ from guild-router:gatewayPeerPort (both 3001)'],
    [{ prometheusOperatorLabels: 'release' }, 'guild-router:prometheusOperatorLabels must be label pairs such as release=kube-prometheus-stack,team=bots (got "release")'],
    [{ podMonitor: 'on' }, 'guild-router:podMonitor must be true or false (got "on")'],
    [{ gatewaySpread: 'strict' }, 'guild-router:gatewaySpread must be one of soft, hard, none (got "strict")'],
    [{ routerTolerations: 'dedicated=bots:NoDeploy' }, 'guild-router:routerTolerations must be taints such as dedicated=bots:NoSchedule,spot:NoExecute (effects NoSchedule, PreferNoSchedule, NoExecute); "dedicated=bots:NoDeploy" is not one'],
    [{ gatewayNodeSelector: 'pool' }, 'guild-router:gatewayNodeSelector must be label pairs such as release=kube-prometheus-stack,team=bots (got "pool")'],
    [{ gatewayPriorityClassName: 'Gateways!' }, 'guild-router:gatewayPriorityClassName must be a PriorityClass name (lower-case letters, digits, - and .) (got "Gateways!")'],
    [{ gatewayHandoffTimeoutSeconds: '5' }, 'guild-router:gatewayHandoffTimeoutSeconds must be an integer from 10 to 86400 (got "5")'],
    [{ createNamespace: 'yes' }, 'guild-router:createNamespace must be true or false (got "yes")'],
    [{ imagePullPolicy: 'never' }, 'guild-router:imagePullPolicy must be one of Always, IfNotPresent, Never (got "never")'],
    [{ routerMemoryRequest: '256Mi', routerMemoryLimit: '192Mi' }, 'guild-router:routerMemoryRequest (256Mi) must not exceed guild-router:routerMemoryLimit (192Mi)'],
    [{ gatewayMemoryRequest: '2Gi', gatewayMemoryLimit: '1Gi' }, 'guild-router:gatewayMemoryRequest (2Gi) must not exceed guild-router:gatewayMemoryLimit (1Gi)'],
    [{ routerMemoryRequest: '64Mi', routerMemoryLimit: '128Mi' }, 'guild-router:routerMemoryLimit must be at least 160Mi: about 100 MiB of the router is resident outside its heap, and the heap needs room (got 128Mi)']
  ])('%j', async (overrides, message) => {
    await expect(runProgram(stackConfig('staging', overrides))).rejects.toThrow(message)
  })
})
