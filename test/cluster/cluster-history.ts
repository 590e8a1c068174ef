import { Watch, type KubeConfig, type KubernetesObject, type KubernetesObjectApi } from '@kubernetes/client-node'

type Manifest = KubernetesObject & Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Change {
  readonly type: string
  readonly kind: string
  readonly name: string
  /** The object's resourceVersion at this change, as a number (see below). */
  readonly at: bigint
  readonly object: Manifest
}

/**
 * Every change to some kinds of object in one namespace, in the API server's
 * order, from watches opened before the change under test.
 *
 * Why not timestamps: creation times and condition transitions are stamped in
 * whole seconds, and KWOK makes a pod Ready within milliseconds, so "created
 * after Ready" could not be told from "created before it" in the same second.
 * resourceVersion orders them exactly on this test's API server: it is etcd's
 * revision, one counter for the whole store. Kubernetes calls it opaque and a
 * client must not compare it in general; this holds for the etcd-backed API
 * server the test starts itself, and is used only here.
 */
export class ClusterHistory {
  readonly changes: Change[] = []
  readonly #aborts: AbortController[] = []
  #stopped = false
  #failure: string | undefined

  private constructor (private readonly kc: KubeConfig) {}

  /**
   * Lists, then watches from the list's resourceVersion, each kind in
   * `namespace` (kind → [apiVersion, plural]); reopens a watch the server
   * closes. (A watch with no resourceVersion needs etcd progress requests,
   * which this etcd does not offer.)
   */
  static async start (kc: KubeConfig, api: KubernetesObjectApi, namespace: string,
    kinds: Record<string, readonly [apiVersion: string, plural: string]>): Promise<ClusterHistory> {
    const history = new ClusterHistory(kc)
    await Promise.all(Object.entries(kinds).map(async ([kind, [apiVersion, plural]]) => {
      const list = await api.list(apiVersion, kind, namespace)
      for (const object of list.items as Manifest[]) {
        history.changes.push({ type: 'LISTED', kind, name: object.metadata?.name ?? '', at: BigInt(object.metadata?.resourceVersion ?? '0'), object })
      }
      const group = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
      await history.#follow(kind, `${group}/namespaces/${namespace}/${plural}`, list.metadata?.resourceVersion)
    }))
    return history
  }

  async #follow (kind: string, path: string, from: string | undefined): Promise<void> {
    let last = from
    const abort = await new Watch(this.kc).watch(path, { allowWatchBookmarks: true, ...(last === undefined ? {} : { resourceVersion: last }) },
      (type, object: Manifest) => {
        const rv = object.metadata?.resourceVersion
        if (rv === undefined) return
        last = rv
        if (type === 'BOOKMARK') return
        if (type === 'ERROR') {
          // Reported by first(), where a test reads the history.
          this.#failure ??= `watch of ${path} failed: ${JSON.stringify(object)}`
          return
        }
        this.changes.push({ type, kind, name: object.metadata?.name ?? '', at: BigInt(rv), object })
      },
      () => { if (!this.#stopped) void this.#follow(kind, path, last) })
    this.#aborts.push(abort)
  }

  /** The first change of `kind`/`name` (any name when undefined) for which `match` holds, or undefined. */
  first (kind: string, name: string | undefined, match: (o: Manifest, type: string) => boolean): Change | undefined {
    if (this.#failure !== undefined) throw new Error(this.#failure)
    return this.changes.find(c => c.kind === kind && (name === undefined || c.name === name) && match(c.object, c.type))
  }

  stop (): void {
    this.#stopped = true
    for (const a of this.#aborts) a.abort()
  }
}

/** A pod whose Ready condition is True. */
export function isReady (pod: Manifest): boolean {
  return (pod.status?.conditions as Array<{ type: string, status: string }> | undefined)?.some(c => c.type === 'Ready' && c.status === 'True') === true
}

/** A Job whose Complete condition is True. */
export function isComplete (job: Manifest): boolean {
  return (job.status?.conditions as Array<{ type: string, status: string }> | undefined)?.some(c => c.type === 'Complete' && c.status === 'True') === true
}
