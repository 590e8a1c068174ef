import { createHash } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { isGuildId } from '../routing/guild-id'
import { strategy, type StrategyName } from '../routing/strategies'

export interface ReferenceGatewayOptions {
  readonly ordinal: number
  /** With both set, the gateway refuses guilds it does not own (421). */
  readonly numPods?: number
  readonly strategy?: StrategyName
  /** Appends `<method> <x-request-id>` per request received, for tests that count deliveries. */
  readonly requestLog?: string
}

/**
 * A small stand-in for a real gateway pod, for local runs, tests and load
 * runs. It answers with its ordinal and a digest of exactly what it received,
 * and checks ownership the way a real gateway should: a guild that hashes to
 * another pod is refused with 421 Misdirected Request, so a routing mistake is
 * loud instead of silently writing one guild's state on two pods.
 */
export function createReferenceGateway (opts: ReferenceGatewayOptions): Server {
  const owner = opts.numPods !== undefined && opts.strategy !== undefined ? strategy(opts.strategy).pick : undefined
  const numPods = opts.numPods ?? 1

  return createServer((req, res) => {
    if (req.url === '/healthz') {
      reply(res, 200, { status: 'ok', ordinal: opts.ordinal })
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
    if (owner !== undefined && typeof guildId === 'string' && isGuildId(guildId)) {
      const expected = owner(guildId, numPods)
      if (expected !== opts.ordinal) {
        reply(res, 421, { error: 'not_owner', message: `guild ${guildId} belongs to pod ${expected}, not ${opts.ordinal}`, ordinal: opts.ordinal })
        return
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
}

function reply (res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
