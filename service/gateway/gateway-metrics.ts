import { Counter, Gauge, Registry } from 'prom-client'
import { createServer, type Server } from 'node:http'
import { collectRuntimeMetrics } from '../telemetry/metrics'
import type { OwnershipStatus } from './gateway-ownership'
import { reply } from './peer-server'

/**
 * What an operator watches on a gateway during a rescale, read from the
 * ownership protocol's status at scrape time (so nothing on the request path
 * changes): the topology it holds, whether it has settled, and its handoffs
 * both ways. Serve it with `createMetricsServer` on a port of its own
 * (not the peer port), which Prometheus scrapes.
 *
 * No label is called `pod`: pod discovery adds the gateway pod's name as
 * `pod`, and `ordinal` says which share of guilds it owns.
 */
export function gatewayMetrics (readStatus: () => OwnershipStatus, opts: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry()
  // One status per scrape, so every metric of a scrape describes the same
  // moment: the registry collects metrics in the order they were registered,
  // and the first of ours (topology_info) reads the status the rest reuse.
  let snapshot: OwnershipStatus | undefined
  const fresh = (): OwnershipStatus => (snapshot = readStatus())
  const status = (): OwnershipStatus => snapshot ?? fresh()
  if (opts.defaultMetrics !== false) collectRuntimeMetrics(registry, 'guild_gateway_')
  const gauge = (name: string, help: string, value: (s: OwnershipStatus) => number): void => {
    new Gauge({ name, help, registers: [registry], collect () { this.set(value(status())) } })
  }
  new Gauge({
    name: 'guild_gateway_topology_info',
    help: 'Always 1; its labels name the topology this gateway holds, as the routers name theirs, and its ordinal.',
    labelNames: ['ordinal', 'strategy', 'version'] as const,
    registers: [registry],
    collect () {
      const s = fresh()
      this.reset()
      this.labels(String(s.ordinal), s.strategy, s.version).set(1)
    }
  })
  gauge('guild_gateway_topology_gateways', 'The gateway count of the topology this gateway holds.', s => s.count)
  gauge('guild_gateway_settled', '1 once every pod that may hold data holds this topology and nothing it does not own; 0 during a rescale.', s => Number(s.settled))
  gauge('guild_gateway_ready', '1 once this gateway serves traffic under its topology.', s => Number(s.ready))
  gauge('guild_gateway_guilds', 'Guilds whose data is on this gateway.', s => s.guilds)
  gauge('guild_gateway_handoff_stuck', '1 while guilds wait to be sent and the last send failed.', s => Number(s.handoff.stuck !== undefined))
  // Each of these has an `out` and an `in` series, read from one status per scrape.
  const twoWay: Array<[typeof Gauge | typeof Counter, string, string, (h: OwnershipStatus['handoff'], out: boolean) => number]> = [
    [Gauge, 'guild_gateway_handoff_pending_guilds', 'Moved guilds still to hand off: out, to send from here; in, that peers still have to send here.', (h, out) => out ? h.sending.guilds : h.receiving.guilds],
    [Gauge, 'guild_gateway_handoff_pending_bytes', 'Bytes of moved guilds still to send (out) or arriving (in).', (h, out) => out ? h.sending.bytes : h.receiving.bytes],
    [Counter, 'guild_gateway_handoff_guilds_total', 'Guilds handed off since start: out, sent and acknowledged; in, received and committed.', (h, out) => out ? h.sent.guilds : h.received.guilds],
    [Counter, 'guild_gateway_handoff_bytes_total', 'Bytes of guilds handed off since start, out and in.', (h, out) => out ? h.sent.bytes : h.received.bytes]
  ]
  for (const [Kind, name, help, pick] of twoWay) {
    new Kind({
      name, help, labelNames: ['direction'] as const, registers: [registry],
      collect () {
        const { handoff } = status()
        this.reset()
        for (const out of [true, false]) {
          // A gauge is set; a counter, just reset, is raised to the value.
          const child = this.labels(out ? 'out' : 'in') as { set?: (v: number) => void, inc: (v: number) => void }
          if (child.set !== undefined) child.set(pick(handoff, out))
          else child.inc(pick(handoff, out))
        }
      }
    })
  }
  return registry
}

/**
 * The gateway's metrics port: GET /metrics and nothing else. A port of its own
 * rather than the peer port, so a NetworkPolicy can admit Prometheus to it
 * without admitting anyone to the handoff endpoints.
 */
export function createMetricsServer (registry: Registry): Server {
  return createServer((req, res) => {
    req.resume()
    const path = (req.url ?? '/').split('?', 1)[0]
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      reply(res, 404, { error: 'not_found', message: `the metrics port serves GET /metrics only, not ${req.method ?? ''} ${path ?? ''}` })
      return
    }
    void registry.metrics().then(text => {
      res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text) })
      res.end(req.method === 'HEAD' ? undefined : text)
    }, (err: Error) => { reply(res, 500, { error: 'metrics_failed', message: err.message }) })
  })
}
