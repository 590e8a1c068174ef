import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seededSnowflakes } from '../../service/routing/snowflakes'
import { strategy } from '../../service/routing/strategies'
import { startControlPlane, type ControlPlane } from './control-plane'
import { buildToolchain, startEngine, type CliResult, type Engine } from './pulumi-engine'
import { removeScratchDir, scratchDir } from '../helpers/scratch-dir'
import { until as untilWithin } from '../helpers/until'

/**
 * Placement on a simulated multi-zone cluster: the real API server,
 * controllers and scheduler, with six KWOK nodes in three zones. The real
 * engine runs `pulumi up`; the scheduler places the pods by the program's
 * topologySpreadConstraints. Volumes are zonal, as cloud disks are: a
 * StorageClass that binds on first use and PersistentVolumes pinned to a
 * zone, so a gateway that moves must stay in its zone.
 *
 * Mocked, because nothing here can be real: the nodes (KWOK), and a zone's
 * loss. Its nodes are taken from KWOK and marked NotReady, and their pods
 * not Ready, which is what kubelet's silence and the node lifecycle
 * controller (off on fake nodes, which send no heartbeats) would do.
 */
const ROOT = join(__dirname, '..', '..')
const NAMESPACE = 'guild-router-staging'
const STRATEGY = strategy('jump') // Pulumi.staging.yaml's
const ZONES = ['zone-a', 'zone-b', 'zone-c']
const NODES = ZONES.flatMap(zone => [1, 2].map(i => ({ name: `${zone}-node-${i}`, zone })))
const KUBERNETES_PROVIDER = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies['@pulumi/kubernetes'] as string
type Manifest = KubernetesObject & Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

let plane: ControlPlane | undefined
let api: KubernetesObjectApi
let engine: Engine
let scratch: string | undefined
const insecure = new Agent({ connect: { rejectUnauthorized: false } })
const log = (line: string): void => { process.stderr.write(`[zones] ${line}\n`) }
const until = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 120_000): Promise<T> => await untilWithin(what, probe, ms)

beforeAll(async () => {
  const [bin, pulumiBin] = await Promise.all([
    buildToolchain(join(ROOT, 'scripts', 'cluster', 'build-control-plane.sh')),
    buildToolchain(join(ROOT, 'scripts', 'cluster', 'build-pulumi.sh'))
  ])
  const etcd = ['/usr/bin/etcd', '/usr/local/bin/etcd'].find(p => existsSync(p))
  if (etcd === undefined) throw new Error('etcd not found: scripts/cluster/build-control-plane.sh installs Debian\'s etcd-server')
  const dir = scratch = scratchDir('guild-zones-')
  plane = await startControlPlane(bin, etcd, join(dir, 'control-plane'))
  const kc = new KubeConfig()
  kc.loadFromFile(plane.kubeconfig)
  api = KubernetesObjectApi.makeApiClient(kc)
  for (const node of NODES) {
    await apply({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: node.name, labels: { type: 'kwok', 'kubernetes.io/hostname': node.name, 'topology.kubernetes.io/zone': node.zone }, annotations: { 'kwok.x-k8s.io/node': 'fake' } },
      spec: {}
    })
  }
  for (const node of NODES) {
    await until(`${node.name} Ready`, async () => (await nodeReady(node.name)) ? true : undefined)
    // Born tainted not-ready; with no kubelet and no node lifecycle controller, nothing else lifts it.
    await api.patch({ apiVersion: 'v1', kind: 'Node', metadata: { name: node.name }, spec: { taints: null } } as Manifest,
      undefined, undefined, undefined, undefined, PatchStrategy.MergePatch)
  }
  // Zonal disks: bound where the first pod that uses one is scheduled, three per zone.
  await apply({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'zonal' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' })
  for (const [z, zone] of ZONES.entries()) {
    for (let i = 0; i < 3; i++) {
      await apply({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: `zonal-pv-${z}-${i}`, labels: { 'topology.kubernetes.io/zone': zone } },
        spec: {
          capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'zonal',
          hostPath: { path: `/tmp/guild-zonal-${z}-${i}` },
          nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: [zone] }] }] } }
        }
      })
    }
  }
  engine = await startEngine({ bin: pulumiBin, root: ROOT, dir, kubeconfig: plane.kubeconfig, stack: 'staging', kubernetesVersion: KUBERNETES_PROVIDER })
  await ok(['config', 'set', 'gatewayStorageClass', 'zonal'])
}, 80 * 60_000)

afterAll(async () => {
  await insecure.close()
  await plane?.stop()
  if (scratch !== undefined) removeScratchDir(scratch)
}, 10 * 60_000)

async function ok (args: string[]): Promise<CliResult> {
  const r = await engine.pulumi(args, 15 * 60_000)
  if (r.code !== 0) throw new Error(`pulumi ${args.join(' ')} exited ${String(r.code)}:\n${r.stdout}\n${r.stderr}`)
  return r
}

async function apply (manifest: Manifest): Promise<void> {
  await api.patch(manifest, undefined, undefined, 'zones-test', true, PatchStrategy.ServerSideApply)
}

async function nodeReady (name: string): Promise<boolean> {
  const node = await api.read({ apiVersion: 'v1', kind: 'Node', metadata: { name } }) as Manifest
  return (node.status?.conditions as Array<{ type: string, status: string }> | undefined)?.some(c => c.type === 'Ready' && c.status === 'True') === true
}

/** A status subresource patch, as kubelet and the node controller write status. */
async function patchStatus (path: string, patch: unknown): Promise<void> {
  const res = await request(`${plane!.server}${path}/status`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${plane!.token}`, 'content-type': 'application/strategic-merge-patch+json' },
    body: JSON.stringify(patch),
    dispatcher: insecure
  })
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`PATCH ${path}/status: ${res.statusCode} ${text}`)
}

interface Placed { name: string, node: string, zone: string, ready: boolean, phase: string, reason?: string }

async function placed (component: 'gateway' | 'router'): Promise<Placed[]> {
  const list = await api.list('v1', 'Pod', NAMESPACE, undefined, undefined, undefined, undefined, `app.kubernetes.io/component=${component}`)
  return (list.items as Manifest[]).filter(p => p.metadata?.deletionTimestamp === undefined).map(p => {
    const node = (p.spec.nodeName as string | undefined) ?? ''
    const conditions = (p.status?.conditions ?? []) as Array<{ type: string, status: string, reason?: string, message?: string }>
    const scheduled = conditions.find(c => c.type === 'PodScheduled')
    return {
      name: p.metadata?.name as string,
      node,
      zone: NODES.find(n => n.name === node)?.zone ?? '',
      ready: conditions.some(c => c.type === 'Ready' && c.status === 'True'),
      phase: p.status?.phase as string,
      ...(scheduled?.status === 'False' ? { reason: `${scheduled.reason ?? ''}: ${scheduled.message ?? ''}` } : {})
    }
  }).sort((a, b) => a.name.localeCompare(b.name))
}

/** max - min pods per domain, over every domain (an empty zone or node counts as 0). */
function skew (pods: Placed[], key: 'zone' | 'node'): number {
  const domains = key === 'zone' ? ZONES : NODES.map(n => n.name)
  const counts = domains.map(d => pods.filter(p => p[key] === d).length)
  return Math.max(...counts) - Math.min(...counts)
}

const describePlacement = (pods: Placed[]): string => pods.map(p => `${p.name}@${p.node || 'unscheduled'}${p.ready ? '' : ' (not Ready)'}`).join(', ')

describe('placement on six KWOK nodes in three zones, through the real engine and scheduler', () => {
  it('pulumi up spreads 3 gateways one per zone and the 2 routers over two zones, each on its own node', async () => {
    await ok(['up', '--yes', '--skip-preview'])
    const gateways = await until('3 gateways Ready', async () => { const g = await placed('gateway'); return g.length === 3 && g.every(p => p.ready) ? g : undefined })
    const routers = await until('2 routers Ready', async () => { const r = await placed('router'); return r.length === 2 && r.every(p => p.ready) ? r : undefined })
    log(`gateways ${describePlacement(gateways)}; routers ${describePlacement(routers)}`)
    expect(new Set(gateways.map(g => g.zone)).size).toBe(3)
    expect(new Set(routers.map(r => r.zone)).size).toBe(2)
    expect(new Set(routers.map(r => r.node)).size).toBe(2)
    // Each gateway's volume is in the zone it runs in.
    for (const g of gateways) {
      const claim = await api.read({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: `data-${g.name}`, namespace: NAMESPACE } }) as Manifest
      const volume = await api.read({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: claim.spec.volumeName as string } }) as Manifest
      expect(volume.metadata?.labels?.['topology.kubernetes.io/zone'], g.name).toBe(g.zone)
    }
  }, 20 * 60_000)

  it('gatewayReplicas 3 → 5 and 6 routers: zones within one pod of each other, at most one pod of a tier per node', async () => {
    await ok(['config', 'set', 'gatewayReplicas', '5'])
    await ok(['config', 'set', 'routerMinReplicas', '6'])
    await ok(['up', '--yes', '--skip-preview'])
    const gateways = await until('5 gateways Ready', async () => { const g = await placed('gateway'); return g.length === 5 && g.every(p => p.ready) ? g : undefined })
    // The HPA raises the routers to its new minimum (no metrics are needed for that).
    const routers = await until('6 routers Ready', async () => { const r = await placed('router'); return r.length === 6 && r.every(p => p.ready) ? r : undefined })
    log(`gateways ${describePlacement(gateways)}; routers ${describePlacement(routers)}`)
    expect({ gatewayZoneSkew: skew(gateways, 'zone'), gatewayNodeSkew: skew(gateways, 'node'), routerZoneSkew: skew(routers, 'zone'), routerNodeSkew: skew(routers, 'node') })
      .toEqual({ gatewayZoneSkew: 1, gatewayNodeSkew: 1, routerZoneSkew: 0, routerNodeSkew: 0 })
  }, 20 * 60_000)

  it('draining a node (cordon, then the Eviction API) never has two gateways down; the evicted gateway returns in its zone', async () => {
    const before = await placed('gateway')
    const victim = before[0]!
    const node = victim.node
    await api.patch({ apiVersion: 'v1', kind: 'Node', metadata: { name: node }, spec: { unschedulable: true } } as Manifest,
      undefined, undefined, undefined, undefined, PatchStrategy.MergePatch)
    // Watch both tiers all along: a PDB allows one unavailable pod per tier.
    let watching = true
    let worst = { gateways: 0, routers: 0 }
    const watch = (async () => {
      while (watching) {
        const [g, r] = await Promise.all([placed('gateway'), placed('router')])
        worst = { gateways: Math.max(worst.gateways, 5 - g.filter(p => p.ready).length), routers: Math.max(worst.routers, 6 - r.filter(p => p.ready).length) }
        await new Promise(resolve => setTimeout(resolve, 50))
      }
    })()
    const refusals: string[] = []
    try {
      // kubectl drain: evict every pod on the node, retrying while a PDB says no (429).
      await until(`${node} drained`, async () => {
        const list = await api.list('v1', 'Pod', NAMESPACE, undefined, undefined, undefined, `spec.nodeName=${node}`)
        const left = (list.items as Manifest[]).filter(p => p.metadata?.deletionTimestamp === undefined)
        if (left.length === 0) return true
        for (const pod of left) {
          const res = await request(`${plane!.server}/api/v1/namespaces/${NAMESPACE}/pods/${pod.metadata?.name as string}/eviction`, {
            method: 'POST',
            headers: { authorization: `Bearer ${plane!.token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata?.name, namespace: NAMESPACE } }),
            dispatcher: insecure
          })
          const text = await res.body.text()
          if (res.statusCode === 429) refusals.push(`${pod.metadata?.name as string}: ${(JSON.parse(text) as { message?: string }).message ?? text}`)
          else if (res.statusCode !== 201 && res.statusCode !== 404) throw new Error(`eviction of ${pod.metadata?.name as string}: ${res.statusCode} ${text}`)
        }
        return undefined
      }, 180_000)
      const back = await until(`${victim.name} back and Ready, or Pending with a reason`, async () => {
        const p = (await placed('gateway')).find(x => x.name === victim.name)
        return p !== undefined && (p.ready || p.reason !== undefined) ? p : undefined
      }, 180_000)
      log(`drained ${node} (${victim.zone}): ${victim.name} now ${back.ready ? `Ready on ${back.node} (${back.zone})` : `Pending: ${back.reason ?? ''}`}; PDB refusals ${refusals.length}${refusals.length > 0 ? ` (first: ${refusals[0]})` : ''}`)
      // Soft spreading: its zonal volume takes it back to its zone, on the other node.
      expect({ ready: back.ready, zone: back.zone, sameNode: back.node === node }).toEqual({ ready: true, zone: victim.zone, sameNode: false })
      await until('every gateway Ready', async () => (await placed('gateway')).every(p => p.ready) ? true : undefined)
    } finally {
      watching = false
      await watch
      await api.patch({ apiVersion: 'v1', kind: 'Node', metadata: { name: node }, spec: { unschedulable: false } } as Manifest,
        undefined, undefined, undefined, undefined, PatchStrategy.MergePatch)
    }
    expect(worst.gateways).toBeLessThanOrEqual(1)
    expect(worst.routers).toBeLessThanOrEqual(1)
  }, 20 * 60_000)

  it('losing a zone leaves the other zones\' gateways serving: exactly the lost pods\' share of guilds goes dark', async () => {
    const gateways = await placed('gateway')
    const lost = ZONES[2]!
    const lostNodes = NODES.filter(n => n.zone === lost).map(n => n.name)
    for (const name of lostNodes) {
      // Out of KWOK's hands (it would mark the node Ready again), then NotReady.
      await api.patch({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { type: 'lost' } } } as Manifest,
        undefined, undefined, undefined, undefined, PatchStrategy.MergePatch)
      await patchStatus(`/api/v1/nodes/${name}`, { status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'zone lost' }] } })
    }
    const dark = gateways.filter(g => lostNodes.includes(g.node))
    for (const g of dark) {
      await patchStatus(`/api/v1/namespaces/${NAMESPACE}/pods/${g.name}`, { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'NodeLost' }] } })
    }
    // What the routers see: the headless Service's ready endpoints (its DNS answers).
    const served = await until('gateway-internal to drop the lost zone\'s gateways', async () => {
      const list = await api.list('discovery.k8s.io/v1', 'EndpointSlice', NAMESPACE, undefined, undefined, undefined, undefined, 'kubernetes.io/service-name=gateway-internal')
      const ready = list.items.flatMap(s => ((s as Manifest).endpoints ?? []) as Array<{ conditions?: { ready?: boolean }, targetRef?: { name: string } }>)
        .filter(e => e.conditions?.ready === true).map(e => e.targetRef?.name as string).sort()
      return ready.length === gateways.length - dark.length ? ready : undefined
    })
    expect(served).toEqual(gateways.filter(g => !lostNodes.includes(g.node)).map(g => g.name).sort())
    const count = gateways.length
    const guilds = [...seededSnowflakes(50_000, 11n)]
    const darkOrdinals = new Set(dark.map(g => Number(g.name.split('-')[1])))
    const darkShare = guilds.filter(id => darkOrdinals.has(STRATEGY.pick(id, count))).length / guilds.length
    const servedShare = guilds.filter(id => served.includes(`gateway-${STRATEGY.pick(id, count)}`)).length / guilds.length
    log(`${lost} lost (${lostNodes.join(', ')}): ${dark.map(g => g.name).join(', ')} dark, ${(100 * darkShare).toFixed(1)}% of 50,000 guilds; ${served.join(', ')} serve the other ${(100 * servedShare).toFixed(1)}%`)
    expect(dark.length).toBeGreaterThanOrEqual(1)
    expect(darkShare + servedShare).toBeCloseTo(1, 10)
    // jump spreads guilds evenly: each dark pod is one share of the count.
    expect(darkShare).toBeCloseTo(dark.length / count, 1)
  }, 10 * 60_000)
})
