import type { KubeApi, KubeObject, KubeWatch } from './kube-watch'
import { watchObjects } from './kube-watch'
import type { PeerDirectory } from './peers'

/**
 * The topology and the peer list read from the API server rather than from
 * kubelet's copy of the ConfigMap and from DNS. A watch sees a change within
 * about a second of the write; kubelet refreshes a mounted ConfigMap on its
 * own sync (up to about a minute), and a DNS answer may be a TTL old. Needs a
 * Role with get, list and watch on the one ConfigMap and on EndpointSlices
 * (the program's `gatewayTopologySource: api` creates it).
 */
export interface TopologyWatch {
  /** The ConfigMap's topology JSON as last seen, or undefined before the first list. */
  latest (): string | undefined
  /** Resolves on the first list that found the ConfigMap with its key. */
  readonly first: Promise<void>
  readonly name: string
  close (): void
}

export function watchTopology (api: KubeApi, configMap: string, key: string, onError?: (message: string) => void): TopologyWatch {
  let text: string | undefined
  let found: () => void = () => {}
  const first = new Promise<void>(resolve => { found = resolve })
  const watch = watchObjects(api, {
    path: `/api/v1/namespaces/${encodeURIComponent(api.namespace)}/configmaps`,
    selector: { fieldSelector: `metadata.name=${configMap}` },
    onChange: objects => {
      const data = objects.get(configMap)?.data as Record<string, string> | undefined
      const value = data?.[key]
      if (value === undefined) return // deleted, or no such key: keep the topology held
      text = value
      found()
    },
    onError
  })
  return { latest: () => text, first, name: `ConfigMap ${api.namespace}/${configMap} key ${key}`, close: () => { watch.close() } }
}

interface EndpointSlice extends KubeObject {
  readonly endpoints?: ReadonlyArray<{ readonly addresses?: readonly string[] }>
}

/**
 * Every address in the Service's EndpointSlices, ready or not, terminating
 * or not (the Service publishes not-ready addresses): every gateway pod that
 * has an address. Fails while the watch is not connected, as a DNS lookup
 * fails when the resolver is down, so a round is never taken on a stale list.
 */
export function endpointSlicePeers (api: KubeApi, service: string, port: number, onError?: (message: string) => void): PeerDirectory & { close: () => void } {
  let addresses: string[] = []
  const watch: KubeWatch = watchObjects(api, {
    path: `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(api.namespace)}/endpointslices`,
    selector: { labelSelector: `kubernetes.io/service-name=${service}` },
    onChange: objects => {
      const all = new Set<string>()
      for (const slice of objects.values() as Iterable<EndpointSlice>) {
        for (const endpoint of slice.endpoints ?? []) for (const address of endpoint.addresses ?? []) all.add(address)
      }
      addresses = [...all].sort()
    },
    onError
  })
  const directory = async (): Promise<string[]> => {
    if (!watch.live) throw new Error(`EndpointSlices of ${service}: watch not connected`)
    return addresses.map(a => `http://${a.includes(':') ? `[${a}]` : a}:${port}`)
  }
  return Object.assign(directory, { close: () => { watch.close() } })
}
