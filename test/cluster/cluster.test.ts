import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runProgram, stackConfig, type Registered } from '../infra/pulumi-harness'
import { startControlPlane, type ControlPlane } from './control-plane'

/**
 * The Pulumi program's objects against a real API server: server-side
 * validation, defaulting, immutable fields, controllers and (through KWOK)
 * Ready pods. The program renders its manifests under Pulumi's mocks; this
 * driver applies them tier by tier in the order the program's Output
 * dependencies give the real engine (namespace, gateways until Ready, then
 * the router), because the Pulumi CLI's Node.js language host and the
 * Kubernetes provider cannot be built here (see the README).
 *
 * With KUBECONFIG set, it runs against that cluster instead of starting one.
 */
const ROOT = join(__dirname, '..', '..')
const FIELD_MANAGER = 'guild-router'
const NAMESPACE = 'guild-router-staging'
const external = process.env.KUBECONFIG !== undefined && process.env.KUBECONFIG !== ''
let plane: ControlPlane | undefined
let api: KubernetesObjectApi

type Manifest = KubernetesObject & Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  const kc = new KubeConfig()
  if (external) {
    kc.loadFromDefault()
  } else {
    // Builds (or reuses) the control-plane binaries; progress goes to stderr.
    const bin = execFileSync('bash', [join(ROOT, 'scripts', 'cluster', 'build-control-plane.sh')], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 60 * 60 * 1000
    }).trim().split('\n').pop() as string
    const etcd = ['/usr/bin/etcd', '/usr/local/bin/etcd'].find(p => existsSync(p))
    if (etcd === undefined) throw new Error('etcd not found: scripts/cluster/build-control-plane.sh installs Debian\'s etcd-server')
    plane = await startControlPlane(bin, etcd, mkdtempSync(join(tmpdir(), 'guild-cluster-')))
    kc.loadFromFile(plane.kubeconfig)
  }
  api = KubernetesObjectApi.makeApiClient(kc)
  if (!external) await prepareFakeCluster()
}, 70 * 60 * 1000)

afterAll(async () => {
  // KEEP_CLUSTER=1 leaves a failed run's control plane up for a look with kubectl.
  if (process.env.KEEP_CLUSTER === '1' && plane !== undefined) process.stderr.write(`control plane kept: KUBECONFIG=${plane.kubeconfig}\n`)
  else await plane?.stop()
})

/** A KWOK node for pods to land on, and volumes for the gateways' claims to bind to. */
async function prepareFakeCluster (): Promise<void> {
  await apply({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'kwok-node-0', labels: { type: 'kwok', 'kubernetes.io/hostname': 'kwok-node-0' }, annotations: { 'kwok.x-k8s.io/node': 'fake' } },
    spec: {}
  })
  await until('the KWOK node to be Ready', async () => {
    const node = await read('v1', 'Node', 'kwok-node-0', '')
    return (node.status?.conditions as Array<{ type: string, status: string }> | undefined)?.some(c => c.type === 'Ready' && c.status === 'True') === true ? node : undefined
  })
  // Nodes are born tainted not-ready; with no kubelet and no node lifecycle
  // controller, nothing else lifts it.
  await api.patch({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'kwok-node-0' }, spec: { taints: null } } as Manifest,
    undefined, undefined, undefined, undefined, PatchStrategy.MergePatch)
  for (let i = 0; i < 6; i++) {
    await apply({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `test-pv-${i}` },
      spec: { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Delete', hostPath: { path: `/tmp/guild-pv-${i}` } }
    })
  }
}

async function apply (manifest: Manifest): Promise<Manifest> {
  return await api.patch(manifest, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply) as Manifest
}

async function read (apiVersion: string, kind: string, name: string, namespace = NAMESPACE): Promise<Manifest> {
  return await api.read({ apiVersion, kind, metadata: { name, namespace } }) as Manifest
}

async function until<T> (what: string, probe: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const end = Date.now() + ms
  let last: unknown
  while (Date.now() < end) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (err) {
      last = err
    }
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`)
}

/** The program's Kubernetes objects, in the tiers its Output dependencies order. */
async function render (overrides: Record<string, string> = {}): Promise<{ namespace: Manifest[], gateways: Manifest[], router: Manifest[] }> {
  const run = await runProgram(stackConfig('staging', overrides))
  const k8s = run.resources.filter((r: Registered) => r.type.startsWith('kubernetes:')).map(r => r.inputs as Manifest)
  const kind = (...kinds: string[]): Manifest[] => k8s.filter(m => kinds.includes(m.kind as string))
  const gatewayNames = new Set(['gateway', 'gateway-internal'])
  return {
    namespace: kind('Namespace'),
    gateways: k8s.filter(m => m.kind !== 'Namespace' && gatewayNames.has(m.metadata?.name as string)),
    router: k8s.filter(m => m.kind !== 'Namespace' && !gatewayNames.has(m.metadata?.name as string))
  }
}

/**
 * A new gateway count changes the pods' NUM_GATEWAY_PODS, so the StatefulSet
 * also rolls every existing pod, one at a time, each within its 30 s grace.
 */
async function statefulSetReady (replicas: number, ms = 120_000): Promise<Manifest> {
  return await until(`${replicas} Ready gateway pods`, async () => {
    const sts = await read('apps/v1', 'StatefulSet', 'gateway')
    const s = sts.status ?? {}
    return s.readyReplicas === replicas && s.updatedReplicas === replicas && s.currentRevision === s.updateRevision ? sts : undefined
  }, ms)
}

async function readyTime (pod: string): Promise<number> {
  const p = await read('v1', 'Pod', pod)
  const ready = (p.status?.conditions as Array<{ type: string, status: string, lastTransitionTime: string }>).find(c => c.type === 'Ready')
  expect(ready?.status).toBe('True')
  return Date.parse(ready?.lastTransitionTime as string)
}

function env (deployment: Manifest, name: string): string | undefined {
  return (deployment.spec.template.spec.containers[0].env as Array<{ name: string, value?: string }>).find(e => e.name === name)?.value
}

describe('the program against a real API server', () => {
  it('is accepted and converges: 3 Ready gateways behind gateway-internal, then the router, its HPA, PDBs and NetworkPolicy', async () => {
    const tiers = await render()
    for (const m of tiers.namespace) await apply(m)
    for (const m of tiers.gateways) await apply(m)
    await statefulSetReady(3)
    for (const m of tiers.router) await apply(m)

    for (const n of [0, 1, 2]) await readyTime(`gateway-${n}`)
    const headless = await read('v1', 'Service', 'gateway-internal')
    expect(headless.spec.clusterIP).toBe('None')
    const slices = await until('gateway-internal endpoints', async () => {
      const list = await api.list('discovery.k8s.io/v1', 'EndpointSlice', NAMESPACE, undefined, undefined, undefined, undefined, 'kubernetes.io/service-name=gateway-internal')
      const ready = list.items.flatMap(s => ((s as Manifest).endpoints ?? []) as Array<{ conditions?: { ready?: boolean }, targetRef?: { name: string } }>)
        .filter(e => e.conditions?.ready === true).map(e => e.targetRef?.name).sort()
      return ready.length === 3 ? ready : undefined
    })
    expect(slices).toEqual(['gateway-0', 'gateway-1', 'gateway-2'])

    const deployment = await read('apps/v1', 'Deployment', 'guild-router')
    expect(env(deployment, 'NUM_GATEWAY_PODS')).toBe('3')
    expect(env(deployment, 'GATEWAY_URL_TEMPLATE')).toBe(`http://gateway-{ordinal}.gateway-internal.${NAMESPACE}.svc.cluster.local:3000`)
    // No fixed replicas: the field is not ours, so the HPA owns the count.
    const ours = (deployment.metadata?.managedFields ?? []).filter(f => f.manager === FIELD_MANAGER)
    expect(JSON.stringify(ours.map(f => f.fieldsV1))).not.toContain('"f:replicas"')
    await until('router pods Ready', async () => {
      const d = await read('apps/v1', 'Deployment', 'guild-router')
      return (d.status?.readyReplicas ?? 0) >= 1 ? d : undefined
    })

    const hpa = await read('autoscaling/v2', 'HorizontalPodAutoscaler', 'guild-router')
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 10])
    expect((await read('policy/v1', 'PodDisruptionBudget', 'gateway')).spec.maxUnavailable).toBe(1)
    expect((await read('policy/v1', 'PodDisruptionBudget', 'guild-router')).spec.maxUnavailable).toBe(1)
    const policy = await read('networking.k8s.io/v1', 'NetworkPolicy', 'guild-router-to-gateway')
    expect(policy.spec.ingress[0].ports[0].port).toBe(3000)
  }, 300_000)

  it('applying the same program again changes nothing', async () => {
    const tiers = await render()
    for (const m of [...tiers.namespace, ...tiers.gateways, ...tiers.router]) {
      const before = await read(m.apiVersion as string, m.kind as string, m.metadata?.name as string, m.metadata?.namespace ?? '')
      const after = await apply(m)
      expect(after.metadata?.resourceVersion, `${m.kind} ${m.metadata?.name}`).toBe(before.metadata?.resourceVersion)
    }
  }, 120_000)

  it('gatewayReplicas 3 → 4: four Ready gateways, and only then does the router roll with NUM_GATEWAY_PODS=4', async () => {
    const tiers = await render({ gatewayReplicas: '4' })
    for (const m of tiers.gateways) await apply(m)
    await statefulSetReady(4, 420_000)
    const fourthReady = await readyTime('gateway-3')
    for (const m of tiers.router) await apply(m)

    const deployment = await until('the router rollout', async () => {
      const d = await read('apps/v1', 'Deployment', 'guild-router')
      return env(d, 'NUM_GATEWAY_PODS') === '4' && d.status?.updatedReplicas >= 1 && d.status?.observedGeneration === d.metadata?.generation ? d : undefined
    })
    const sets = await api.list('apps/v1', 'ReplicaSet', NAMESPACE, undefined, undefined, undefined, undefined, 'app.kubernetes.io/name=guild-router')
    const newest = sets.items.map(s => s as Manifest).find(s => env(s, 'NUM_GATEWAY_PODS') === '4')
    expect(newest).toBeDefined()
    expect(Date.parse(newest?.metadata?.creationTimestamp as unknown as string)).toBeGreaterThanOrEqual(Math.floor(fourthReady / 1000) * 1000)
    expect(env(deployment, 'NUM_GATEWAY_PODS')).toBe('4')
  }, 600_000)

  it('a bad config value fails before anything reaches the cluster, with the program\'s own message', async () => {
    await expect(render({ routerMinReplicas: '5', routerMaxReplicas: '3' }))
      .rejects.toThrow('guild-router:routerMinReplicas (5) must not exceed guild-router:routerMaxReplicas (3)')
  })

  it('deleting the program\'s objects leaves none behind', async () => {
    const tiers = await render({ gatewayReplicas: '4' })
    for (const m of [...tiers.router, ...tiers.gateways, ...tiers.namespace].reverse()) {
      await api.delete(m, undefined, undefined, undefined, undefined, 'Foreground')
    }
    await until('the namespace to be gone', async () => {
      try {
        await read('v1', 'Namespace', NAMESPACE, '')
        return undefined
      } catch (err) {
        return (err as { code?: number }).code === 404 ? true : undefined
      }
    }, 180_000)
    for (const [apiVersion, kind] of [['apps/v1', 'StatefulSet'], ['apps/v1', 'Deployment'], ['v1', 'Service'], ['v1', 'Pod']] as const) {
      const left = await api.list(apiVersion, kind, NAMESPACE)
      expect(left.items, kind).toEqual([])
    }
  }, 240_000)
})
