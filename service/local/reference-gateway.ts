import { createHash } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { startGatewayOwnership, type GatewayOwnership } from '../ownership/gateway-ownership'
import { TOPOLOGY_PATH } from '../ownership/peers'
import { isGuildId } from '../routing/guild-id'
import type { StrategyName } from '../routing/strategies'

export interface ReferenceGatewayOptions {
  readonly ordinal: number
  /** With both set, the gateway refuses guilds it does not own (421), by a count fixed for its lifetime. */
  readonly numPods?: number
  readonly strategy?: StrategyName
  /** Ownership that follows a topology file and its peers; takes precedence over numPods. */
  readonly ownership?: GatewayOwnership
  /** Appends `<method> <x-request-id>` per request received, for tests that count deliveries. */
  readonly requestLog?: string
  /** Appends `<guildId> <ordinal> <epoch ms>` per guild request accepted, for tests of single ownership. */
  readonly acceptLog?: string
}

/**
 * A small stand-in for a real gateway pod, for local runs, tests and load
 * runs. It answers with its ordinal and a digest of exactly what it received,
 * and checks ownership the way a real gateway should: a guild that hashes to
 * another pod is refused with 421 Misdirected Request, so a routing mistake is
 * loud instead of silently writing one guild's state on two pods.
 */
export function createReferenceGateway (opts: ReferenceGatewayOptions): Server {
  const ownership = opts.ownership ?? (opts.numPods !== undefined && opts.strategy !== undefined
    ? startGatewayOwnership({ ordinal: opts.ordinal, source: { topology: { strategy: opts.strategy, count: opts.numPods } } })
    : undefined)

  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      // Not ready until this pod has settled once: a new pod takes no traffic
      // (and the StatefulSet and the engine wait) until every peer holds its topology.
      const ready = ownership?.status().ready ?? true
      reply(res, ready ? 200 : 503, { status: ready ? 'ok' : 'settling', ordinal: opts.ordinal })
      return
    }
    if (req.url === TOPOLOGY_PATH && ownership !== undefined) {
      reply(res, 200, ownership.status())
      return
    }
    if (opts.requestLog !== undefined) {
      // Synchronous on purpose: the line must be on disk even if the process is killed next.
      appendFileSync(opts.requestLog, `${req.method} ${String(req.headers['x-request-id'])}\n`)
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => answer(req, res, Buffer.concat(chunks)))
  })

  function answer (req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const guildId = req.headers['x-guild-id']
    if (ownership !== undefined && typeof guildId === 'string' && isGuildId(guildId)) {
      const decision = ownership.owns(guildId)
      if (decision.kind !== 'accept') {
        const refusal = ownership.refusal(guildId, decision)
        res.writeHead(refusal.status, refusal.headers)
        res.end(refusal.body)
        return
      }
      if (opts.acceptLog !== undefined) {
        appendFileSync(opts.acceptLog, `${guildId} ${opts.ordinal} ${(performance.timeOrigin + performance.now()).toFixed(3)}\n`)
      }
    }
    if (req.headers['x-echo-body'] === '1') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-ordinal': String(opts.ordinal) })
      res.end(body)
      return
    }
    reply(res, 200, {
      ordinal: opts.ordinal,
      method: req.method,
      url: req.url,
      guildId: typeof guildId === 'string' ? guildId : null,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyBytes: body.length,
      bodySha256: createHash('sha256').update(body).digest('hex')
    })
  }

  server.on('close', () => ownership?.close())
  return server
}

function reply (res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
