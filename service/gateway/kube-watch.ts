import { readFileSync } from 'node:fs'
import { Agent, request, type Dispatcher } from 'undici'

/**
 * How a pod reaches its own cluster's API server: the Service environment
 * kubelet injects and the mounted service-account token. The token file is
 * read again for every request, because kubelet rotates it.
 */
export interface KubeApi {
  readonly base: string
  readonly namespace: string
  readonly token: () => string
  readonly dispatcher: Dispatcher
}

const ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

export function inClusterApi (env: Readonly<Record<string, string | undefined>>, dir = ACCOUNT_DIR): KubeApi {
  const host = env.KUBERNETES_SERVICE_HOST
  const port = env.KUBERNETES_SERVICE_PORT ?? '443'
  if (host === undefined || host === '') throw new Error('KUBERNETES_SERVICE_HOST is not set: not running in a pod, or the pod has no API access')
  const namespace = env.POD_NAMESPACE ?? readFileSync(`${dir}/namespace`, 'utf8').trim()
  return {
    base: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    namespace,
    token: () => readFileSync(`${dir}/token`, 'utf8').trim(),
    dispatcher: new Agent({ connect: { ca: readFileSync(`${dir}/ca.crt`) } })
  }
}

/** A Kubernetes object as far as a watch needs it. */
export interface KubeObject {
  readonly metadata: { readonly name: string, readonly resourceVersion?: string }
  readonly [field: string]: unknown
}

export interface WatchOptions {
  /** The collection, e.g. `/api/v1/namespaces/ns/configmaps`. */
  readonly path: string
  /** `fieldSelector` / `labelSelector` query parameters. */
  readonly selector: Readonly<Record<string, string>>
  /** Every time the set of objects changes (and after each full list). */
  readonly onChange: (objects: ReadonlyMap<string, KubeObject>) => void
  readonly onError?: (message: string) => void
  /** Pause after a failed list or watch. */
  readonly retryMs?: number
}

export interface KubeWatch {
  /** Whether the cache reflects a list or watch that is still connected. */
  readonly live: boolean
  close (): void
}

/**
 * List, then watch from the list's resourceVersion, the way every Kubernetes
 * controller keeps a cache: each event replaces or deletes one object; a
 * closed stream resumes from the last version seen; a 410 Gone (the version
 * is too old) starts over with a list. Bookmarks keep the version current on
 * a quiet collection.
 *
 * This is the watch protocol over undici, which the gateway already ships:
 * two GETs and a line parser. The official client would bring some 67 MB of
 * packages into the image for the same two calls.
 */
export function watchObjects (api: KubeApi, opts: WatchOptions): KubeWatch {
  const retryMs = opts.retryMs ?? 1000
  const objects = new Map<string, KubeObject>()
  let closed = false
  let live = false
  let abort = new AbortController()

  const url = (extra: Record<string, string>): string =>
    `${api.base}${opts.path}?${new URLSearchParams({ ...opts.selector, ...extra }).toString()}`
  const get = async (target: string): Promise<Dispatcher.ResponseData> => await request(target, {
    dispatcher: api.dispatcher,
    signal: abort.signal,
    headers: { authorization: `Bearer ${api.token()}`, accept: 'application/json' },
    headersTimeout: 10_000,
    // A watch stays open for minutes; bookmarks arrive about once a minute.
    bodyTimeout: 0
  })

  async function list (): Promise<string> {
    const res = await get(url({}))
    if (res.statusCode !== 200) throw new Error(`list ${opts.path}: ${res.statusCode} ${(await res.body.text()).slice(0, 200)}`)
    const body = await res.body.json() as { metadata: { resourceVersion: string }, items: KubeObject[] }
    objects.clear()
    for (const item of body.items) objects.set(item.metadata.name, item)
    live = true
    opts.onChange(objects)
    return body.metadata.resourceVersion
  }

  /** Returns the version to resume from, or undefined to list again. */
  async function watch (from: string): Promise<string | undefined> {
    const res = await get(url({ watch: '1', resourceVersion: from, allowWatchBookmarks: 'true', timeoutSeconds: '300' }))
    if (res.statusCode === 410) { await res.body.dump(); return undefined }
    if (res.statusCode !== 200) throw new Error(`watch ${opts.path}: ${res.statusCode} ${(await res.body.text()).slice(0, 200)}`)
    let version: string | undefined = from
    let pending = ''
    for await (const chunk of res.body) {
      pending += (chunk as Buffer).toString('utf8')
      let newline: number
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline).trim()
        pending = pending.slice(newline + 1)
        if (line === '') continue
        const event = JSON.parse(line) as { type: string, object: KubeObject & { code?: number } }
        if (event.type === 'ERROR') return event.object.code === 410 ? undefined : version
        version = event.object.metadata?.resourceVersion ?? version
        if (event.type === 'BOOKMARK') continue
        if (event.type === 'DELETED') objects.delete(event.object.metadata.name)
        else objects.set(event.object.metadata.name, event.object)
        opts.onChange(objects)
      }
    }
    return version
  }

  void (async () => {
    let version: string | undefined
    while (!closed) {
      try {
        version ??= await list()
        version = await watch(version)
      } catch (err) {
        live = false
        version = undefined
        if (closed) break
        opts.onError?.((err as Error).message)
        await new Promise(resolve => setTimeout(resolve, retryMs).unref())
      }
    }
  })()

  return {
    get live () { return live },
    close () {
      closed = true
      live = false
      abort.abort()
      abort = new AbortController()
    }
  }
}
