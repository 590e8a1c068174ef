import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { childPids, cpuSeconds, freePort, peakRssMiB, pin, ROOT, rssMiB, startProcess, stopProcess, waitForPort } from './bench-tools'
import { routerRuntime } from './image-runtime'

/**
 * The contenders, each started on its own loopback port with its own config
 * file in a scratch directory (never the system services), and pinned to one
 * core with one worker.
 */
export interface Running {
  readonly name: string
  readonly url: string
  /** The main process, when the contender has one of its own. */
  readonly pid?: number
  /** Peak RSS so far of every process of this contender, MiB. */
  peakRss (): number
  /** RSS now, MiB. */
  rss (): number
  /** CPU seconds used so far by every process of this contender. */
  cpu (): number
  stop (): Promise<void>
}

/** Static nginx server blocks standing in for the gateways: cheap enough that the proxy is the bottleneck. */
export async function startUpstreams (dir: string, count: number, core: string): Promise<{ ports: number[], stop: () => Promise<void> }> {
  const ports = await Promise.all(Array.from({ length: count }, freePort))
  const conf = join(dir, 'upstreams.conf')
  writeFileSync(conf, nginxMain(dir, 'upstreams', ports.map((port, n) => `
    server {
      listen 127.0.0.1:${port};
      keepalive_requests 1000000;
      location / { add_header x-ordinal ${n}; return 200 '{"ordinal":${n}}'; }
    }`).join('\n')))
  const child = startProcess('nginx', ['-p', dir, '-c', conf])
  await Promise.all(ports.map(p => waitForPort(p)))
  pinAll(child, core)
  return { ports, stop: () => stopProcess(child) }
}

export async function startNginx (dir: string, upstreams: number[], core: string): Promise<Running> {
  const port = await freePort()
  const conf = join(dir, 'nginx-proxy.conf')
  writeFileSync(conf, nginxMain(dir, 'proxy', `
    upstream gateways {
      hash $http_x_guild_id consistent;
      ${upstreams.map(p => `server 127.0.0.1:${p};`).join('\n      ')}
      keepalive 256;
    }
    server {
      listen 127.0.0.1:${port};
      keepalive_requests 1000000;
      location / {
        proxy_pass http://gateways;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
      }
    }`))
  const child = startProcess('nginx', ['-p', dir, '-c', conf])
  await waitForPort(port)
  pinAll(child, core)
  return running('nginx', port, child, () => [child.pid as number, ...childPids(child.pid as number)])
}

export async function startHaproxy (dir: string, upstreams: number[], core: string): Promise<Running> {
  const port = await freePort()
  const conf = join(dir, 'haproxy.cfg')
  writeFileSync(conf, `global
  nbthread 1
  maxconn 8000

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  http-reuse always

frontend fe
  bind 127.0.0.1:${port}
  default_backend gateways

backend gateways
  balance hdr(x-guild-id)
  hash-type consistent
${upstreams.map((p, n) => `  server g${n} 127.0.0.1:${p}`).join('\n')}
`)
  const child = startProcess('haproxy', ['-f', conf, '-db'])
  await waitForPort(port)
  pinAll(child, core)
  return running('HAProxy', port, child, () => [child.pid as number])
}

/**
 * `entry` is relative to dist/service: the standalone router, or the
 * Express-mounted variant. Started as its pod starts it (image-runtime.ts),
 * or with `runtime: 'node-defaults'` as a bare `node main.js`, to measure
 * what the image's memory flags trade.
 */
export async function startRouter (upstreams: number[], core: string, entry = 'main.js', runtime: 'image' | 'node-defaults' = 'image'): Promise<Running> {
  const script = join(__dirname, '..', 'service', entry)
  if (runtime === 'node-defaults') return startNodeProxy('guild-router, Node defaults', script, upstreams, core)
  const { flags, env } = routerRuntime(ROOT)
  return startNodeProxy('guild-router', script, upstreams, core, flags, env)
}

/**
 * The Node proxies the router is measured against (bench/peers/), each the
 * way its own documentation sets it up, with Node's default flags.
 */
export const PEERS = [
  { name: 'minimal node:http+undici', script: 'minimal-proxy.js' },
  { name: 'Fastify+reply-from', script: 'fastify-proxy.js' },
  { name: 'Express+http-proxy-mw', script: 'express-proxy.js' }
] as const

export async function startPeer (peer: typeof PEERS[number], upstreams: number[], core: string): Promise<Running> {
  return startNodeProxy(peer.name, join(__dirname, 'peers', peer.script), upstreams, core)
}

/** A Node process on its own port, told the gateways the way the router is told them. */
async function startNodeProxy (name: string, script: string, upstreams: number[], core: string,
  flags: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Promise<Running> {
  const port = await freePort()
  // A profiler's options (bench:profile) join the runtime's rather than replace them.
  const nodeOptions = [process.env.NODE_OPTIONS, env.NODE_OPTIONS].filter(o => o !== undefined && o !== '').join(' ')
  const child = startProcess(process.execPath, [...flags, script], {
    ...process.env,
    ...env,
    NODE_OPTIONS: nodeOptions,
    NUM_GATEWAY_PODS: String(upstreams.length),
    GATEWAY_URLS: upstreams.map(p => `http://127.0.0.1:${p}`).join(','),
    HOST: '127.0.0.1',
    PORT: String(port),
    ADMIN_PORT: '0',
    LOG_LEVEL: 'warn',
    DRAIN_DELAY_MS: '0'
  })
  // The router warms up before it listens: about a second on a quiet core, many on a busy one.
  try {
    await waitForPort(port, 60_000)
  } catch (err) {
    await stopProcess(child) // a proxy that never listened must not outlive the bench
    throw err
  }
  pinAll(child, core)
  return running(name, port, child, () => [child.pid as number])
}

export function direct (upstreamPort: number): Running {
  return { name: 'gateway directly', url: `http://127.0.0.1:${upstreamPort}`, peakRss: () => Number.NaN, rss: () => Number.NaN, cpu: () => Number.NaN, stop: async () => {} }
}

function running (name: string, port: number, child: ChildProcess, pids: () => number[]): Running {
  return { name, url: `http://127.0.0.1:${port}`, pid: child.pid, peakRss: () => peakRssMiB(pids()), rss: () => rssMiB(pids()), cpu: () => cpuSeconds(pids()), stop: () => stopProcess(child) }
}

function pinAll (child: ChildProcess, core: string): void {
  const pid = child.pid as number
  for (const p of [pid, ...childPids(pid)]) pin(p, core)
}

function nginxMain (dir: string, name: string, http: string): string {
  const tmp = join(dir, `${name}-tmp`)
  mkdirSync(tmp, { recursive: true })
  return `worker_processes 1;
daemon off;
master_process on;
pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}-error.log`)} warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
${http}
}
`
}
