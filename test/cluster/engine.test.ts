import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClusterHistory, isComplete, isReady } from './cluster-history'
import { startControlPlane, type ControlPlane } from './control-plane'
import { buildToolchain, startEngine, type CliResult, type Engine } from './pulumi-engine'
import { removeScratchDir, scratchDir } from '../helpers/scratch-dir'
import { until as untilWithin } from '../helpers/until'

/**
 * The program through the real Pulumi engine: the CLI, the Node.js language
 * host and the Kubernetes provider, built from Go modules, run `pulumi
 * preview`, `up`, a rescale and `destroy` of the staging stack exactly as an
 * operator types them, against a real API server with controllers and (through
 * KWOK) Ready pods. Every step is checked against the live API.
 *
 * With KUBECONFIG set, it runs against that cluster instead of starting one.
 */
const ROOT = join(__dirname, '..', '..')
const STACK = 'staging'
const NAMESPACE = 'guild-router-staging' // Pulumi.staging.yaml's
const KUBERNETES_PROVIDER = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies['@pulumi/kubernetes'] as string
const external = process.env.KUBECONFIG !== undefined && process.env.KUBECONFIG !== ''
let plane: ControlPlane | undefined
let api: KubernetesObjectApi
let engine: Engine
let history: ClusterHistory
let scratch: string | undefined

type Manifest = KubernetesObject & Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  // Both toolchains are built (or reused) at once: the downloads of one overlap the compiles of the other.
  const [bin, pulumiBin] = await Promise.all([
    external ? Promise.resolve('') : buildToolchain(join(ROOT, 'scripts', 'cluster', 'build-control-plane.sh')),
    buildToolchain(join(ROOT, 'scripts', 'cluster', 'build-pulumi.sh'))
  ])
  const dir = scratch = scratchDir('guild-engine-')
  const kc = new KubeConfig()
  let kubeconfig = process.env.KUBECONFIG as string
  if (external) {
    kc.loadFromDefault()
  } else {
    const etcd = ['/usr/bin/etcd', '/usr/local/bin/etcd'].find(p => existsSync(p))
    if (etcd === undefined) throw new Error('etcd not found: scripts/cluster/build-control-plane.sh installs Debian\'s etcd-server')
    plane = await startControlPlane(bin, etcd, join(dir, 'control-plane'))
    kubeconfig = plane.kubeconfig
    kc.loadFromFile(kubeconfig)
  }
  api = KubernetesObjectApi.makeApiClient(kc)
  if (!external) await prepareFakeCluster()
  history = await ClusterHistory.start(kc, api, namespace(), {
    Pod: ['v1', 'pods'], Deployment: ['apps/v1', 'deployments'], ReplicaSet: ['apps/v1', 'replicasets'], Job: ['batch/v1', 'jobs']
  })
  engine = await startEngine({ bin: pulumiBin, root: ROOT, dir, kubeconfig, stack: STACK, kubernetesVersion: KUBERNETES_PROVIDER })
  // Per-run overrides for a shared cluster, through `pulumi config set` only.
  if (process.env.CLUSTER_TEST_NAMESPACE !== undefined) await configSet('namespace', process.env.CLUSTER_TEST_NAMESPACE)
  if (process.env.CLUSTER_TEST_ROUTER_IMAGE !== undefined) await configSet('routerImage', process.env.CLUSTER_TEST_ROUTER_IMAGE)
}, 80 * 60 * 1000)

afterAll(async () => {
  history?.stop()
  // KEEP_CLUSTER=1 leaves a failed run's control plane up for a look with kubectl.
  if (process.env.KEEP_CLUSTER === '1' && plane !== undefined) {
    process.stderr.write(`control plane kept: KUBECONFIG=${plane.kubeconfig}; pulumi project: ${engine?.project}\n`)
    return
  }
  // Against a real cluster, a failed run must not leave the stack's objects behind.
  if (external && engine !== undefined) await engine.pulumi(['destroy', '--yes', '--skip-preview'])
  await plane?.stop()
  if (scratch !== undefined) removeScratchDir(scratch)
}, 10 * 60 * 1000)

const namespace = (): string => process.env.CLUSTER_TEST_NAMESPACE ?? NAMESPACE

async function configSet (key: string, value: string): Promise<void> {
  await ok(['config', 'set', key, value])
}

/** Runs a pulumi command that must succeed, and returns what it printed. */
async function ok (args: string[]): Promise<CliResult> {
  const r = await engine.pulumi(args)
  if (r.code !== 0) throw new Error(`pulumi ${args.join(' ')} exited ${String(r.code)}:\n${r.stdout}\n${r.stderr}`)
  return r
}

/** A KWOK node for pods to land on, and volumes for the gateways' claims to bind to. */
async function prepareFakeCluster (): Promise<void> {
  await api.patch({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'kwok-node-0', labels: { type: 'kwok', 'kubernetes.io/hostname': 'kwok-node-0' }, annotations: { 'kwok.x-k8s.io/node': 'fake' } },
    spec: {}
  } as Manifest, undefined, undefined, 'cluster-test', true, PatchStrategy.ServerSideApply)
  await until('the KWOK node to be Ready', async () => {
    const node = await read('v1', 'Node', 'kwok-node-0', '')
    return (node.status?.conditions as Array<{ type: string, status: string }> | undefined)?.some(c => c.type === 'Ready' && c.status === 'True') === true ? node : undefined
  })
  // Nodes are born tainted not-ready; with no kubelet and no node lifecycle
  // controller, nothing else lifts it.
  await api.patch({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'kwok-node-0' }, spec: { taints: null } } as Manifest,
    undefined, undefined, undefined, undefined, PatchStrategy.MergePatch)
  for (let i = 0; i < 6; i++) {
    await api.patch({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `test-pv-${i}` },
      spec: { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Delete', hostPath: { path: `/tmp/guild-pv-${i}` } }
    } as Manifest, undefined, undefined, 'cluster-test', true, PatchStrategy.ServerSideApply)
  }
}

async function read (apiVersion: string, kind: string, name: string, ns = namespace()): Promise<Manifest> {
  return await api.read({ apiVersion, kind, metadata: { name, namespace: ns } }) as Manifest
}

/** `until` with this file's default bound. */
const until = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 120_000): Promise<T> => await untilWithin(what, probe, ms)

async function readyTime (pod: string): Promise<number> {
  const p = await read('v1', 'Pod', pod)
  const ready = (p.status?.conditions as Array<{ type: string, status: string, lastTransitionTime: string }>).find(c => c.type === 'Ready')
  expect(ready?.status).toBe('True')
  return Date.parse(ready?.lastTransitionTime as string)
}

function env (deployment: Manifest, name: string): string | undefined {
  return (deployment.spec.template.spec.containers[0].env as Array<{ name: string, value?: string }>).find(e => e.name === name)?.value
}

/** The Kubernetes objects a `--json` preview or update plans, as `op Kind/name`. */
function plannedObjects (result: CliResult): string[] {
  const plan = JSON.parse(result.stdout) as { steps?: Array<{ op: string, urn: string, newState?: { type: string, inputs?: Manifest }, oldState?: { type: string, inputs?: Manifest } }> }
  return (plan.steps ?? [])
    .filter(s => (s.newState ?? s.oldState)?.type.startsWith('kubernetes:') === true && !(s.newState ?? s.oldState)?.type.startsWith('pulumi:providers:'))
    .map(s => {
      const state = s.newState ?? s.oldState
      return `${s.op} ${state?.inputs?.kind as string}/${state?.inputs?.metadata?.name as string}`
    })
    .sort()
}

/** `a` happened strictly before `b` in the API server's order (cluster-history.ts says why not timestamps). */
function before (a: { at: bigint } | undefined, b: { at: bigint } | undefined, what: string): void {
  expect(a, what).toBeDefined()
  expect(b, what).toBeDefined()
  expect((a as { at: bigint }).at < (b as { at: bigint }).at, `${what}: ${String(a?.at)} before ${String(b?.at)}`).toBe(true)
}

describe('pulumi through the real engine', () => {
  it('preview after `npm run build` plans the stack\'s objects, deletes nothing and warns of no entry point', async () => {
    // `npm run test:cluster` builds first, as the pull-request workflow does: the
    // library's entry point exists, so a program taken from package.json's
    // `main` would be the library, which plans to delete everything.
    expect(existsSync(join(ROOT, 'dist', 'service', 'index.js'))).toBe(true)
    const preview = await ok(['preview', '--json'])
    expect(preview.stderr + preview.stdout).not.toContain('Could not find entry point')
    expect(plannedObjects(preview)).toEqual([
      'create ConfigMap/gateway-topology',
      'create Deployment/guild-router',
      'create HorizontalPodAutoscaler/guild-router',
      'create Job/gateway-handoff',
      `create Namespace/${namespace()}`,
      'create NetworkPolicy/guild-router-to-gateway',
      'create PodDisruptionBudget/gateway',
      'create PodDisruptionBudget/guild-router',
      // gatewayTopologySource api: the gateways' own account, allowed to read the topology ConfigMap and EndpointSlices.
      'create Role/gateway-topology-reader',
      'create RoleBinding/gateway-topology-reader',
      'create Service/gateway-internal',
      'create Service/gateway-peers',
      'create Service/guild-router',
      'create ServiceAccount/gateway',
      'create StatefulSet/gateway'
    ])
    const ops = (JSON.parse(preview.stdout) as { steps: Array<{ op: string }> }).steps.map(s => s.op)
    expect(ops.filter(op => op !== 'create')).toEqual([])
  }, 15 * 60_000)

  it('up converges: 3 Ready gateways behind gateway-internal, and only then the router, its HPA, PDBs and NetworkPolicy', async () => {
    await ok(['up', '--yes', '--skip-preview'])

    for (const n of [0, 1, 2]) await readyTime(`gateway-${n}`)
    const headless = await read('v1', 'Service', 'gateway-internal')
    expect(headless.spec.clusterIP).toBe('None')
    const slices = await until('gateway-internal endpoints', async () => {
      const list = await api.list('discovery.k8s.io/v1', 'EndpointSlice', namespace(), undefined, undefined, undefined, undefined, 'kubernetes.io/service-name=gateway-internal')
      const ready = list.items.flatMap(s => ((s as Manifest).endpoints ?? []) as Array<{ conditions?: { ready?: boolean }, targetRef?: { name: string } }>)
        .filter(e => e.conditions?.ready === true).map(e => e.targetRef?.name).sort()
      return ready.length === 3 ? ready : undefined
    })
    expect(slices).toEqual(['gateway-0', 'gateway-1', 'gateway-2'])

    const deployment = await read('apps/v1', 'Deployment', 'guild-router')
    // The engine sent the Deployment only once its inputs (the StatefulSet's
    // Outputs) were resolved, which the provider does after the rollout is Ready.
    const routerCreated = history.first('Deployment', 'guild-router', (_, type) => type === 'ADDED')
    for (const n of [0, 1, 2]) before(history.first('Pod', `gateway-${n}`, isReady), routerCreated, `gateway-${n} Ready, then the router created`)
    expect(env(deployment, 'NUM_GATEWAY_PODS')).toBe('3')
    expect(env(deployment, 'GATEWAY_URL_TEMPLATE')).toBe(`http://gateway-{ordinal}.gateway-internal.${namespace()}.svc.cluster.local:3000`)
    // No replicas field is the program's: the HPA owns the count.
    const ours = (deployment.metadata?.managedFields ?? []).filter(f => f.manager?.startsWith('pulumi') === true)
    expect(ours.length).toBeGreaterThan(0)
    expect(JSON.stringify(ours.map(f => f.fieldsV1))).not.toContain('"f:replicas"')

    const hpa = await read('autoscaling/v2', 'HorizontalPodAutoscaler', 'guild-router')
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 10])
    expect((await read('policy/v1', 'PodDisruptionBudget', 'gateway')).spec.maxUnavailable).toBe(1)
    expect((await read('policy/v1', 'PodDisruptionBudget', 'guild-router')).spec.maxUnavailable).toBe(1)
    const policy = await read('networking.k8s.io/v1', 'NetworkPolicy', 'guild-router-to-gateway')
    expect(policy.spec.ingress[0].ports[0].port).toBe(3000)
  }, 15 * 60_000)

  it('a second preview has no changes (no perpetual diff from defaults, field ownership or the HPA)', async () => {
    const r = await engine.pulumi(['preview', '--expect-no-changes', '--diff'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/\d+ unchanged/)
  }, 15 * 60_000)

  it('gatewayReplicas 3 → 4: the topology ConfigMap is updated in place, the gateways are not rolled, and the router rolls after four are Ready', async () => {
    const podUids = async (): Promise<string[]> => await Promise.all([0, 1, 2].map(async n => (await read('v1', 'Pod', `gateway-${n}`)).metadata?.uid as string))
    const uidsBefore = await podUids()
    const revisionBefore = (await read('apps/v1', 'StatefulSet', 'gateway')).status.updateRevision as string
    await configSet('gatewayReplicas', '4')
    const preview = await ok(['preview', '--json'])
    const planned = plannedObjects(preview)
    expect(planned.filter(p => !p.includes(' Job/'))).toEqual(['update ConfigMap/gateway-topology', 'update Deployment/guild-router', 'update StatefulSet/gateway'])
    // A new topology gets a new handoff barrier (a Job's template is immutable).
    expect(planned.filter(p => p.includes(' Job/'))).toContain('replace Job/gateway-handoff')
    await ok(['up', '--yes', '--skip-preview'])
    // The engine's order: the StatefulSet grew only after the barrier Job completed.
    const barrier = await read('batch/v1', 'Job', 'gateway-handoff')
    expect(JSON.parse(env(barrier, 'TARGET_TOPOLOGY') ?? '{}')).toEqual({ strategy: 'jump', count: 4 })
    before(history.first('Job', 'gateway-handoff', o => isComplete(o) && o.metadata?.uid === barrier.metadata?.uid),
      history.first('Pod', 'gateway-3', (_, type) => type === 'ADDED'), 'the barrier Job complete, then gateway-3 created')
    expect(JSON.parse((await read('v1', 'ConfigMap', 'gateway-topology')).data['topology.json'] as string)).toEqual({ strategy: 'jump', count: 4 })
    // Only the replicas changed: the same pod template revision, the same pods.
    expect((await read('apps/v1', 'StatefulSet', 'gateway')).status.updateRevision).toBe(revisionBefore)
    expect(await podUids()).toEqual(uidsBefore)

    const sts = await read('apps/v1', 'StatefulSet', 'gateway')
    expect([sts.spec.replicas, sts.status.readyReplicas]).toEqual([4, 4])
    await readyTime('gateway-3')
    const sets = await api.list('apps/v1', 'ReplicaSet', namespace(), undefined, undefined, undefined, undefined, 'app.kubernetes.io/name=guild-router')
    const newest = sets.items.map(s => s as Manifest).filter(s => env(s, 'NUM_GATEWAY_PODS') === '4')
    expect(newest).toHaveLength(1)
    before(history.first('Pod', 'gateway-3', isReady), history.first('ReplicaSet', newest[0]?.metadata?.name, (_, type) => type === 'ADDED'),
      'gateway-3 Ready, then the routers\' ReplicaSet for 4 created')
    expect(env(await read('apps/v1', 'Deployment', 'guild-router'), 'NUM_GATEWAY_PODS')).toBe('4')
  }, 20 * 60_000)

  it('a bad config value stops preview and up with the program\'s own message, and changes nothing', async () => {
    const before = await Promise.all([read('apps/v1', 'Deployment', 'guild-router'), read('autoscaling/v2', 'HorizontalPodAutoscaler', 'guild-router')])
    await configSet('routerMinReplicas', '5')
    await configSet('routerMaxReplicas', '3')
    try {
      const message = 'guild-router:routerMinReplicas (5) must not exceed guild-router:routerMaxReplicas (3)'
      for (const args of [['preview'], ['up', '--yes', '--skip-preview']]) {
        const r = await engine.pulumi(args)
        expect(r.code, args[0]).not.toBe(0)
        expect(r.stdout + r.stderr).toContain(message)
      }
      const after = await Promise.all([read('apps/v1', 'Deployment', 'guild-router'), read('autoscaling/v2', 'HorizontalPodAutoscaler', 'guild-router')])
      // generation counts changes to an object's spec; status updates by the
      // controllers (the last rollout settling) do not move it.
      expect(after.map(o => o.metadata?.generation)).toEqual(before.map(o => o.metadata?.generation))
    } finally {
      await ok(['config', 'rm', 'routerMinReplicas'])
      await ok(['config', 'rm', 'routerMaxReplicas'])
    }
  }, 15 * 60_000)

  it('stack output gives the outputs the README documents', async () => {
    const outputs = JSON.parse((await ok(['stack', 'output', '--json'])).stdout) as Record<string, unknown>
    const ns = namespace()
    expect(outputs).toEqual({
      gatewayCount: 4,
      gatewayPodUrls: [0, 1, 2, 3].map(n => `http://gateway-${n}.gateway-internal.${ns}.svc.cluster.local:3000`),
      gatewayServiceName: 'gateway-internal',
      routerServiceName: 'guild-router',
      routerUrl: `http://guild-router.${ns}.svc.cluster.local`,
      namespaceName: ns
    })
  }, 5 * 60_000)

  it('destroy leaves no object of the program behind, in any namespace', async () => {
    // What the stack made, by kind and name, read from its state before it goes.
    const state = JSON.parse((await ok(['stack', 'export'])).stdout) as { deployment: { resources: Array<{ type: string, outputs?: Manifest }> } }
    const made = state.deployment.resources
      .filter(r => r.type.startsWith('kubernetes:') && !r.type.startsWith('pulumi:providers:') && r.outputs?.kind !== undefined)
      .map(r => ({ apiVersion: r.outputs?.apiVersion as string, kind: r.outputs?.kind as string, name: r.outputs?.metadata?.name as string }))
    expect(made.length).toBeGreaterThanOrEqual(15)
    await ok(['destroy', '--yes', '--skip-preview'])
    await until('the namespace to be gone', async () => {
      try {
        await read('v1', 'Namespace', namespace(), '')
        return undefined
      } catch (err) {
        return (err as { code?: number }).code === 404 ? true : undefined
      }
    }, 180_000)
    // Listed across every namespace and the cluster scope: lists inside the
    // deleted namespace would be empty whatever destroy had left elsewhere.
    for (const { apiVersion, kind, name } of made) {
      const left = (await api.list(apiVersion, kind)).items.filter(o => o.metadata?.name === name)
      expect(left.map(o => `${kind} ${o.metadata?.namespace ?? ''}/${name}`)).toEqual([])
    }
    for (const kind of ['Pod', 'PersistentVolumeClaim']) {
      const left = (await api.list('v1', kind)).items.filter(o => o.metadata?.labels?.['app.kubernetes.io/part-of'] === 'guild-router')
      expect(left.map(o => `${kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`)).toEqual([])
    }
    const remaining = JSON.parse((await ok(['stack', 'export'])).stdout) as { deployment: { resources?: unknown[] } }
    expect(remaining.deployment.resources ?? []).toEqual([])
  }, 15 * 60_000)
})
