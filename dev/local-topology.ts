import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { parseConfig } from '../service/config'
import { ConfigError } from '../service/errors'
import type { OwnershipStatus } from '../service/gateway/gateway-ownership'
import { strategy } from '../service/routing/strategies'
import { startNode, type NodeProcess } from './processes'
import { STRIPES, stablePort } from './stable-port'

/**
 * `npm start`: N stateful reference gateways and one router on 127.0.0.1,
 * wired the way Kubernetes wires them: each gateway has a data directory (its
 * volume), a topology file (its ConfigMap mount) and a peer port, and a
 * peers file lists them (the gateway-peers Service). Type a pod count and
 * Enter to rescale while it runs, the way `pulumi up` does: guilds and their
 * entries move, and the status page shows the handoff. Ctrl-C stops everything.
 */
const EXAMPLE_GUILD = '81384788765712384'
const MAX_PODS = 16

interface Gateway { readonly ordinal: number, readonly port: number, readonly peerPort: number, readonly dataDir: string, readonly topologyFile: string, proc?: NodeProcess }

/** Everything this process started: on any way out, all of it is stopped. */
const children = new Set<NodeProcess>()
const stopAll = async (): Promise<void> => { await Promise.allSettled([...children].map(async c => await c.stop('SIGTERM'))) }

function track (proc: NodeProcess): NodeProcess {
  children.add(proc)
  proc.child.once('exit', () => children.delete(proc))
  return proc
}

/** The data directory this run made (none when LOCAL_DATA_DIR names one): removed however the run ends. */
let madeDir: string | undefined
const removeMadeDir = (): void => { if (madeDir !== undefined) rmSync(madeDir, { recursive: true, force: true }) }

async function main (): Promise<void> {
  let count = Number(process.env.NUM_GATEWAY_PODS ?? '3')
  const strategyName = process.env.ROUTING_STRATEGY ?? 'md5-mod'
  const host = '127.0.0.1'
  // Validate up front with placeholder URLs so a typo fails before anything starts.
  const planned = parseConfig({ ...process.env, NUM_GATEWAY_PODS: String(count), ROUTING_STRATEGY: strategyName, GATEWAY_URLS: '' })
  count = planned.numGatewayPods
  const dir = process.env.LOCAL_DATA_DIR ?? (madeDir = mkdtempSync(join(tmpdir(), 'guild-router-local-')))
  const peersFile = join(dir, 'peers')

  const cleanUp = async (): Promise<void> => {
    await stopAll()
    removeMadeDir()
  }
  process.once('SIGINT', () => { void cleanUp().then(() => process.exit(0)) })
  process.once('SIGTERM', () => { void cleanUp().then(() => process.exit(0)) })

  const gateways: Gateway[] = []
  // A gateway keeps its ports across a rescale; the upper stripes are this tool's (tests take the lower ones).
  const stripe = STRIPES / 2 + process.pid % (STRIPES / 2)
  for (let n = 0; n < MAX_PODS; n++) {
    gateways.push({ ordinal: n, port: await stablePort(host, stripe), peerPort: await stablePort(host, stripe), dataDir: join(dir, `gateway-${n}`), topologyFile: join(dir, `topology-${n}.json`) })
  }
  const listed = new Set<number>()
  const writePeers = (): void => { writeFileSync(peersFile, [...listed].map(n => `http://${host}:${gateways[n]!.peerPort}`).join('\n')) }
  const setTopology = (g: Gateway, n: number): void => { writeFileSync(g.topologyFile, JSON.stringify({ strategy: planned.strategy, count: n })) }
  const startGateway = async (g: Gateway, n: number): Promise<void> => {
    mkdirSync(g.dataDir, { recursive: true })
    setTopology(g, n)
    listed.add(g.ordinal)
    writePeers()
    g.proc = track(startNode('gateway/reference-gateway-main.js', {
      ORDINAL: String(g.ordinal), HOST: host, PORT: String(g.port), PEER_PORT: String(g.peerPort),
      DATA_DIR: g.dataDir, TOPOLOGY_FILE: g.topologyFile, PEERS_FILE: peersFile, TOPOLOGY_POLL_MS: '100'
    }))
    await g.proc.listening
  }
  const status = async (g: Gateway): Promise<OwnershipStatus | undefined> => {
    try {
      return await (await request(`http://${host}:${g.peerPort}/topology`)).body.json() as OwnershipStatus
    } catch {
      return undefined
    }
  }

  for (const g of gateways.slice(0, count)) await startGateway(g, count)
  const routerPort = process.env.PORT ?? '8080'
  const adminPort = process.env.ADMIN_PORT ?? '9090'
  let router: NodeProcess | undefined
  const startRouter = async (n: number): Promise<{ port: number, adminPort?: number }> => {
    await router?.stop('SIGTERM')
    router = track(startNode('main.js', {
      ...process.env as Record<string, string>,
      NUM_GATEWAY_PODS: String(n),
      ROUTING_STRATEGY: planned.strategy,
      GATEWAY_URLS: gateways.slice(0, n).map(g => `http://${host}:${g.port}`).join(','),
      HOST: process.env.HOST ?? host,
      PORT: routerPort,
      ADMIN_PORT: adminPort,
      DRAIN_DELAY_MS: process.env.DRAIN_DELAY_MS ?? '0'
    }, { echo: 'router' }))
    return await router.listening
  }
  const listening = await startRouter(count)
  const base = `http://${host}:${listening.port}`
  const admin = `http://${host}:${String(listening.adminPort)}`

  /** Waits until every running gateway has settled at `n`, printing the handoff as it goes: the program's barrier, locally. */
  const settle = async (n: number, running: Gateway[]): Promise<void> => {
    let said = ''
    for (;;) {
      const all = await Promise.all(running.map(status))
      if (all.every(s => s !== undefined && s.count === n && s.settled)) return
      const line = all.map((s, i) => `gateway-${running[i]!.ordinal}: ${s === undefined ? 'no answer' : `${s.guilds} guilds${s.handoff.sending.guilds > 0 ? `, sending ${s.handoff.sending.guilds}` : ''}${s.settled ? '' : ' (settling)'}`}`).join(' · ')
      if (line !== said) process.stdout.write(`  ${line}\n`)
      said = line
      await sleep(200)
    }
  }

  const rescale = async (to: number): Promise<void> => {
    const from = count
    process.stdout.write(`rescaling ${from} → ${to}\n`)
    if (to > from) {
      for (const g of gateways.slice(from, to)) await startGateway(g, to)
      for (const g of gateways.slice(0, from)) setTopology(g, to)
      await settle(to, gateways.slice(0, to))
    } else {
      for (const g of gateways.slice(0, from)) setTopology(g, to)
      // As `pulumi up` does: no pod goes before every pod has settled at the new count.
      await settle(to, gateways.slice(0, from))
      for (const g of gateways.slice(to, from)) {
        await g.proc?.stop('SIGTERM')
        listed.delete(g.ordinal)
      }
      writePeers()
    }
    count = to
    const again = await startRouter(to)
    process.stdout.write(`rescaled to ${to}: every guild is at its owner with its entries; router http://${host}:${again.port}\n`)
  }

  await settle(count, gateways.slice(0, count))
  const predicted = strategy(planned.strategy).pick(EXAMPLE_GUILD, count)
  const res = await request(`${base}/guilds/${EXAMPLE_GUILD}/hello`)
  const answer = await res.body.json() as { ordinal?: number }
  const ok = res.statusCode === 200 && answer.ordinal === predicted

  process.stdout.write([
    '',
    `guild-router local topology: ${count} gateways, strategy ${planned.strategy}, data in ${dir}`,
    `  router     ${base}`,
    `  admin      ${admin}  (/ is the status page; /route/<guildId>, /metrics, /readyz)`,
    ...gateways.slice(0, count).map(g => `  gateway-${g.ordinal}  http://${host}:${g.port}  (peer port ${g.peerPort})`),
    '',
    `check: guild ${EXAMPLE_GUILD} → pod ${String(res.headers['x-gateway-pod'])} (predicted ${predicted}) ${ok ? 'OK' : 'MISMATCH'}`,
    '',
    'try:',
    `  curl -s -X POST -d hello ${base}/guilds/${EXAMPLE_GUILD}/entries`,
    `  curl -s ${base}/guilds/${EXAMPLE_GUILD}/entries`,
    `  curl -s -H 'x-guild-id: 41771983423143937' ${base}/anything`,
    `  curl -s ${admin}/route/${EXAMPLE_GUILD}`,
    '',
    `Type a pod count (1–${MAX_PODS}) and Enter to rescale; the guilds' entries move with them. Ctrl-C stops everything.`,
    ''
  ].join('\n'))
  if (!ok) {
    await cleanUp()
    process.exit(1)
  }

  let busy = Promise.resolve()
  createInterface({ input: process.stdin }).on('line', line => {
    const to = Number(line.trim())
    if (line.trim() === '') return
    if (!Number.isInteger(to) || to < 1 || to > MAX_PODS) {
      process.stdout.write(`a pod count is an integer from 1 to ${MAX_PODS} (got ${JSON.stringify(line.trim())})\n`)
      return
    }
    busy = busy.then(async () => { if (to !== count) await rescale(to) }).catch(err => { process.stderr.write(`rescale failed: ${(err as Error).message}\n`) })
  })
}

main().catch(async err => {
  process.stderr.write(`local topology: ${err instanceof ConfigError ? `invalid configuration: ${err.message}` : String(err instanceof Error ? err.message : err)}\n`)
  // A router that could not bind, a gateway that died: never leave the rest running.
  await stopAll()
  removeMadeDir()
  process.exit(1)
})
