import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../service/config'
import { gatewayIngressPolicySpec, gatewayStatefulSetSpec, headlessServiceSpec, peersServiceSpec, type GatewayPodArgs } from '../../infra/gateway-specs'
import { handoffBarrierJobSpec } from '../../infra/handoff-barrier-spec'
import { appLabels, imageVersion, objectLabels, selectorLabels } from '../../infra/labels'
import { parseTolerations, placementSpec } from '../../infra/placement'
import { routerAutoscalerSpec, routerDeploymentSpec, routerServiceSpec, type RouterPodArgs } from '../../infra/router-specs'

/**
 * The spec builders called directly, for what matters in each object: that
 * the names one part of a spec uses are the names another part defines (a
 * probe's port, a mount's volume), that the environment each container gets
 * is what its program reads, and the settings whose loss would cost data or
 * availability. program.test.ts runs them through the whole program.
 */
const ROOT = join(__dirname, '..', '..')
type Any = any // eslint-disable-line @typescript-eslint/no-explicit-any

const placement = { spread: 'soft', nodeSelector: {}, tolerations: [] } as const
const resources = { cpuRequest: '250m', memoryRequest: '128Mi', memoryLimit: '192Mi' }
const gatewayArgs: GatewayPodArgs = {
  replicas: 3, image: 'img:1', port: 3000, peerPort: 3001, metricsPort: 3002, healthPath: '/healthz', routingStrategy: 'jump',
  peerListTtlSeconds: 30, topologySource: 'file', resources, storageSize: '1Gi', placement
}
const routerArgs: RouterPodArgs = {
  image: 'img:1', port: 8081, adminPort: 9091, routingStrategy: 'jump', unrouted: 'pod0', requestDeadlineMs: 1234,
  drainSeconds: 5, shutdownTimeoutSeconds: 10, logLevel: 'warn', resources, placement
}
const topology = { configMap: 'gateway-topology', peersService: 'gateway-peers.ns.svc.cluster.local.', peersServiceName: 'gateway-peers' }
const sel = selectorLabels('x', 'y')

const gatewaySpec = (over: Partial<GatewayPodArgs> = {}): Any => gatewayStatefulSetSpec('gateway-internal', sel, sel, { ...gatewayArgs, ...over }, topology)
const routerSpec = (over: Partial<RouterPodArgs> = {}): Any => routerDeploymentSpec(sel, sel, { numPods: '3', urlTemplate: 'http://gateway-{ordinal}.gateway-internal.ns.svc.cluster.local:3000', healthPath: '/ready' }, { ...routerArgs, ...over })
const barrierSpec = (over: Record<string, unknown> = {}): Any => handoffBarrierJobSpec(sel, { image: 'img:1', peersService: 'p', peerPort: 3001, topology: '{"strategy":"jump","count":3}', timeoutSeconds: 600, ...over })

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** Every port a probe names is a port the container declares. */
function probePorts (c: Any): string[] {
  return ['startupProbe', 'readinessProbe', 'livenessProbe'].flatMap(p => c[p] === undefined ? [] : [c[p].httpGet?.port ?? c[p].tcpSocket?.port])
}

function plainEnv (c: Any): Record<string, string> {
  return Object.fromEntries((c.env as Array<{ name: string, value?: string }>).filter(e => e.value !== undefined).map(e => [e.name, e.value as string]))
}

describe('the router Deployment', () => {
  const c = routerSpec().template.spec.containers[0]

  it('sets an environment the router parses back to the stack\'s values', () => {
    const config = parseConfig(plainEnv(c))
    expect(config).toMatchObject({ numGatewayPods: 3, strategy: 'jump', unrouted: 'pod0', port: 8081, adminPort: 9091, requestDeadlineMs: 1234, drainDelayMs: 0, shutdownTimeoutMs: 10_000, logLevel: 'warn', healthCheckPath: '/ready' })
    expect(config.gatewayUrls[2]).toBe('http://gateway-2.gateway-internal.ns.svc.cluster.local:3000')
  })

  it('names its container, and every port its probes and Service use', () => {
    expect(c.name).toMatch(DNS_LABEL)
    const ports = (c.ports as Array<{ name: string }>).map(p => p.name)
    expect(ports).toEqual(['http', 'admin'])
    for (const p of probePorts(c)) expect(ports).toContain(p)
    expect(routerServiceSpec(sel, 8080).ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }])
    expect(ports).toContain((routerServiceSpec(sel, 8080) as Any).ports[0].targetPort)
  })

  it('rolls out with no pod down (maxUnavailable 0) and a quarter more at most', () => {
    expect(routerSpec().strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } })
  })

  it('pauses in preStop for drainSeconds, and not at all for 0', () => {
    expect(c.lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } })
    expect(routerSpec({ drainSeconds: 1 }).template.spec.containers[0].lifecycle).toEqual({ preStop: { sleep: { seconds: 1 } } })
    expect(routerSpec({ drainSeconds: 0 }).template.spec.containers[0].lifecycle).toBeUndefined()
  })

  it('sets imagePullPolicy only when asked, and a memory limit always', () => {
    expect('imagePullPolicy' in c).toBe(false)
    expect(routerSpec({ imagePullPolicy: 'Never' }).template.spec.containers[0].imagePullPolicy).toBe('Never')
    expect(c.resources.limits).toEqual({ memory: '192Mi' })
  })

  it('scales on CPU utilisation of the request', () => {
    expect(routerAutoscalerSpec('d', { minReplicas: 2, maxReplicas: 10, cpuTarget: 70, scaleDownStabilizationSeconds: 300 }).metrics)
      .toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }])
  })
})

describe('the gateway StatefulSet', () => {
  const spec = gatewaySpec()
  const c = spec.template.spec.containers[0]
  const gatewaySources = ['reference-gateway-main.ts', 'kube-watch.ts'].map(f => readFileSync(join(ROOT, 'service', 'gateway', f), 'utf8')).join('\n')

  it.each(['file', 'api'] as const)('with the %s source, sets only variables the reference gateway reads', source => {
    const container = gatewaySpec({ topologySource: source }).template.spec.containers[0]
    for (const { name } of container.env as Array<{ name: string }>) {
      expect(name).toMatch(/^[A-Z][A-Z_]*$/)
      expect([name, gatewaySources.includes(`env.${name}`) || gatewaySources.includes(`'${name}'`)]).toEqual([name, true])
    }
    expect(plainEnv(container)).toMatchObject({ PORT: '3000', PEER_PORT: '3001', METRICS_PORT: '3002', HOST: '0.0.0.0', DATA_DIR: '/data' })
    expect((container.env as Array<{ name: string, valueFrom?: Any }>).find(e => e.name === 'POD_NAME')?.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } })
  })

  it('names its container, and every port its probes and Services use', () => {
    expect(c.name).toMatch(DNS_LABEL)
    const ports = (c.ports as Array<{ name: string }>).map(p => p.name)
    for (const p of probePorts(c)) expect(ports).toContain(p)
    expect(headlessServiceSpec(sel, 3000).ports).toEqual([{ name: 'http', port: 3000, targetPort: 'http', protocol: 'TCP' }])
    for (const svc of [headlessServiceSpec(sel, 3000), peersServiceSpec(sel, 3001)] as Any[]) expect(ports).toContain(svc.ports[0].targetPort)
  })

  it('mounts only volumes it defines: the data claim, /tmp and (file source) the topology', () => {
    const volumes = new Set([...(spec.template.spec.volumes as Array<{ name: string }>).map(v => v.name), ...(spec.volumeClaimTemplates as Array<{ metadata: { name: string } }>).map(v => v.metadata.name)])
    for (const m of c.volumeMounts as Array<{ name: string }>) expect(volumes).toContain(m.name)
    expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' })
    expect(spec.volumeClaimTemplates[0].metadata).toEqual({ name: 'data', labels: sel })
  })

  it('keeps a removed pod\'s volume (its guilds\' data) on scale-down and delete, and rolls pods one at a time', () => {
    expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenScaled: 'Retain', whenDeleted: 'Retain' })
    expect(spec.updateStrategy).toEqual({ type: 'RollingUpdate' })
    expect(spec.volumeClaimTemplates[0].spec.accessModes).toEqual(['ReadWriteOnce'])
  })

  it('sets storageClassName, imagePullPolicy and a memory limit as asked', () => {
    expect('storageClassName' in spec.volumeClaimTemplates[0].spec).toBe(false)
    expect(gatewaySpec({ storageClass: 'fast' }).volumeClaimTemplates[0].spec.storageClassName).toBe('fast')
    expect('imagePullPolicy' in c).toBe(false)
    expect(gatewaySpec({ imagePullPolicy: 'IfNotPresent' }).template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent')
    expect(c.resources.limits).toEqual({ memory: '192Mi' })
  })

  it('its NetworkPolicy restricts ingress', () => {
    expect(gatewayIngressPolicySpec(sel, sel, sel, { client: 1, peer: 2, metrics: 3 }).policyTypes).toEqual(['Ingress'])
  })
})

describe('the handoff barrier Job', () => {
  const c = barrierSpec().template.spec.containers[0]
  const barrierSource = readFileSync(join(ROOT, 'service', 'gateway', 'handoff-barrier-main.ts'), 'utf8')

  it('sets exactly the variables the barrier reads', () => {
    for (const { name } of c.env as Array<{ name: string }>) {
      expect(name).toMatch(/^[A-Z][A-Z_]*$/)
      expect([name, barrierSource.includes(`env.${name}`)]).toEqual([name, true])
    }
    expect(plainEnv(c)).toEqual({ PEERS_SERVICE: 'p', PEER_PORT: '3001', TARGET_TOPOLOGY: '{"strategy":"jump","count":3}' })
  })

  it('names its container, bounds its resources, and sets imagePullPolicy only when asked', () => {
    expect(c.name).toMatch(DNS_LABEL)
    expect(c.resources).toEqual({ requests: { cpu: '10m', memory: '48Mi' }, limits: { memory: '128Mi' } })
    expect('imagePullPolicy' in c).toBe(false)
    expect(barrierSpec({ imagePullPolicy: 'Never' }).template.spec.containers[0].imagePullPolicy).toBe('Never')
  })
})

describe('labels', () => {
  it('every object carries part-of and managed-by; objects add the version', () => {
    expect(appLabels()).toEqual({ 'app.kubernetes.io/part-of': 'guild-router', 'app.kubernetes.io/managed-by': 'pulumi' })
    expect(objectLabels(sel, '1.2')).toEqual({ ...sel, 'app.kubernetes.io/version': '1.2', 'app.kubernetes.io/managed-by': 'pulumi' })
  })

  it.each([
    ['registry.example/guild-router:1.4.0', '1.4.0'],
    ['guild-router', 'latest'],
    ['registry.example:5000/guild-router', 'latest'],
    ['registry.example:5000/guild-router:v2', 'v2'],
    ['guild-router@sha256:abc', 'digest'],
    ['guild-router:a+b', 'a_b'],
    [`guild-router:${'x'.repeat(70)}`, 'x'.repeat(63)]
  ])('the version label of %s is %s', (image, version) => {
    expect(imageVersion(image)).toBe(version)
  })
})

describe('placement', () => {
  it('sets a priority class only when one is named', () => {
    expect('priorityClassName' in placementSpec(sel, placement)).toBe(false)
    expect(placementSpec(sel, { ...placement, priorityClassName: 'p' }).priorityClassName).toBe('p')
  })

  it.each([
    [' dedicated=bots:NoSchedule , spot ', [{ key: 'dedicated', operator: 'Equal', value: 'bots', effect: 'NoSchedule' }, { key: 'spot', operator: 'Exists' }]],
    ['k=', [{ key: 'k', operator: 'Equal', value: '' }]],
    ['k:NoExecute', [{ key: 'k', operator: 'Exists', effect: 'NoExecute' }]],
    ['k=v', [{ key: 'k', operator: 'Equal', value: 'v' }]]
  ])('tolerations %j', (text, tolerations) => {
    expect(parseTolerations(text)).toStrictEqual(tolerations)
  })

  it.each(['a b', '-k', 'k-', 'k=v-', 'k=v:Never', 'x k'])('refuses the toleration %j', text => {
    expect(parseTolerations(text)).toMatch(new RegExp(`${JSON.stringify(text.trim()).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not one$`))
  })
})

describe('security', () => {
  it('the containers run as non-root', () => {
    for (const c of [routerSpec().template.spec.containers[0], gatewaySpec().template.spec.containers[0], barrierSpec().template.spec.containers[0]]) {
      expect(c.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true })
    }
  })
})
