import { request } from 'undici'
import { parseConfig } from '../service/config'
import { ConfigError } from '../service/errors'
import { strategy } from '../service/routing/strategies'
import { startNode, type NodeProcess } from './processes'

/**
 * `npm start`: N reference gateway processes and one router on 127.0.0.1,
 * wired the way Kubernetes wires them, then one request to prove a guild
 * reaches the pod the hash predicts. Ctrl-C stops everything.
 */
const EXAMPLE_GUILD = '81384788765712384'

/** Everything this process started: on any way out, all of it is stopped. */
const children: NodeProcess[] = []
const stopAll = async (): Promise<void> => { await Promise.allSettled(children.map(c => c.stop('SIGTERM'))) }

async function main (): Promise<void> {
  const numPods = process.env.NUM_GATEWAY_PODS ?? '3'
  const strategyName = process.env.ROUTING_STRATEGY ?? 'md5-mod'
  const host = '127.0.0.1'
  // Validate up front with placeholder URLs so a typo fails before anything starts.
  const planned = parseConfig({ ...process.env, NUM_GATEWAY_PODS: numPods, ROUTING_STRATEGY: strategyName, GATEWAY_URLS: '' })

  process.once('SIGINT', () => { void stopAll().then(() => process.exit(0)) })
  process.once('SIGTERM', () => { void stopAll().then(() => process.exit(0)) })

  const gatewayEnv = { NUM_GATEWAY_PODS: numPods, ROUTING_STRATEGY: strategyName, HOST: host, PORT: '0' }
  for (let n = 0; n < planned.numGatewayPods; n++) {
    children.push(startNode('gateway/reference-gateway-main.js', { ...gatewayEnv, ORDINAL: String(n) }))
  }
  const gateways = await Promise.all(children.map(c => c.listening))
  const urls = gateways.map(g => `http://${host}:${g.port}`)

  const router = startNode('main.js', {
    ...process.env as Record<string, string>,
    NUM_GATEWAY_PODS: numPods,
    ROUTING_STRATEGY: strategyName,
    GATEWAY_URLS: urls.join(','),
    HOST: process.env.HOST ?? host,
    PORT: process.env.PORT ?? '8080',
    ADMIN_PORT: process.env.ADMIN_PORT ?? '9090',
    DRAIN_DELAY_MS: process.env.DRAIN_DELAY_MS ?? '0'
  }, { echo: 'router' })
  children.push(router)
  const { port, adminPort } = await router.listening

  const base = `http://${host}:${port}`
  const predicted = strategy(planned.strategy).pick(EXAMPLE_GUILD, planned.numGatewayPods)
  const res = await request(`${base}/guilds/${EXAMPLE_GUILD}/hello`)
  const answer = await res.body.json() as { ordinal?: number }
  const ok = res.statusCode === 200 && answer.ordinal === predicted

  process.stdout.write([
    '',
    `guild-router local topology: ${planned.numGatewayPods} gateways, strategy ${planned.strategy}`,
    `  router     ${base}`,
    `  admin      http://${host}:${adminPort}  (/route/<guildId>, /metrics, /readyz)`,
    ...urls.map((u, n) => `  gateway-${n}  ${u}`),
    '',
    `check: guild ${EXAMPLE_GUILD} → pod ${String(res.headers['x-gateway-pod'])} (predicted ${predicted}) ${ok ? 'OK' : 'MISMATCH'}`,
    '',
    'try:',
    `  curl -s ${base}/guilds/${EXAMPLE_GUILD}/hello`,
    `  curl -s -H 'x-guild-id: 41771983423143937' ${base}/anything`,
    `  curl -s http://${host}:${adminPort}/route/${EXAMPLE_GUILD}`,
    '',
    'Ctrl-C stops everything.',
    ''
  ].join('\n'))
  if (!ok) {
    await stopAll()
    process.exit(1)
  }
}

main().catch(async err => {
  process.stderr.write(`local topology: ${err instanceof ConfigError ? `invalid configuration: ${err.message}` : String(err instanceof Error ? err.message : err)}\n`)
  // A router that could not bind, a gateway that died: never leave the rest running.
  await stopAll()
  process.exit(1)
})
