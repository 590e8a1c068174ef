import { createHash } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { isGuildId, type GuildId } from '../routing/guild-id'
import type { StrategyName } from '../routing/strategies'
import { startGatewayOwnership, type GatewayOwnership } from './gateway-ownership'
import { appendEntry, listEntries } from './guild-entries'
import { isPeerOnlyPath, PEER_PATHS } from './handoff-wire'
import { reply } from './peer-server'
import type { SqliteGuildStore } from './sqlite-guild-store'

export interface ReferenceGatewayOptions {
  readonly ordinal: number
  /** With both set, the gateway refuses guilds it does not own (421), by a count fixed for its lifetime. */
  readonly numPods?: number
  readonly strategy?: StrategyName
  /** Ownership that follows a topology file and its peers; takes precedence over numPods. */
  readonly ownership?: GatewayOwnership
  /** Where guilds' entries live; without it the entries API answers 501. */
  readonly store?: SqliteGuildStore
  /** Time a write holds its guild before it commits: lets tests make accepted work span a topology change. */
  readonly writeDelayMs?: number
  /** Appends `<method> <x-request-id>` per request received, for tests that count deliveries. */
  readonly requestLog?: string
  /** Appends `<guildId> <ordinal> <start ms> <end ms>` per guild request run, for tests of single ownership. */
  readonly intervalLog?: string
}

const ENTRIES = /^\/guilds\/([^/?]+)\/entries(?:\?.*)?$/

/**
 * A small stand-in for a real gateway pod, for local runs, tests and load
 * runs, and stateful like one: each guild's entries live in SQLite on the
 * pod's volume and move with the guild on a rescale.
 * - POST /guilds/<id>/entries stores one entry (the request id, the body's
 *   SHA-256, the next sequence number) and answers 201 once it is committed;
 * - GET /guilds/<id>/entries lists them;
 * - any other path echoes what it received (its ordinal and a digest).
 * Every guild request goes through ownership: a guild this pod must not
 * serve now is refused with 421 and a code.
 */
export function createReferenceGateway (opts: ReferenceGatewayOptions): Server {
  const ownership = opts.ownership ?? (opts.numPods !== undefined && opts.strategy !== undefined
    ? startGatewayOwnership({ ordinal: opts.ordinal, source: { topology: { strategy: opts.strategy, count: opts.numPods } } })
    : undefined)

  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      // Not Ready until a round has found every peer at this pod's topology: a new pod takes
      // no traffic (and the StatefulSet and the engine wait) until its peers hold the new count.
      const ready = ownership?.status().ready ?? true
      reply(res, ready ? 200 : 503, { status: ready ? 'ok' : 'settling', ordinal: opts.ordinal })
      return
    }
    if (req.url === PEER_PATHS.topology && ownership !== undefined) {
      // Read-only, so harmless on the client port: the routers' status page reads it here.
      reply(res, 200, ownership.status())
      return
    }
    if (isPeerOnlyPath(req.url ?? '/')) {
      // SECURITY: handoffs and operator commands exist only on the peer port.
      req.resume()
      req.once('end', () => { reply(res, 404, { error: 'peer_only', message: `${req.url ?? ''} is served on the gateway's peer port only, never through the router` }) })
      return
    }
    if (opts.requestLog !== undefined) {
      // Synchronous on purpose: the line must be on disk even if the process is killed next.
      appendFileSync(opts.requestLog, `${req.method} ${String(req.headers['x-request-id'])}\n`)
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => { void handle(req, res, Buffer.concat(chunks)) })
  })

  async function handle (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const entries = ENTRIES.exec(req.url ?? '')
    const header = req.headers['x-guild-id']
    const guildId = entries?.[1] ?? (typeof header === 'string' ? header : undefined)
    if (entries !== null && (!isGuildId(entries[1]!) || (typeof header === 'string' && header !== entries[1]))) {
      reply(res, 400, { error: 'invalid_guild_id', message: `the path names guild ${JSON.stringify(entries[1])}${typeof header === 'string' ? ` and x-guild-id ${JSON.stringify(header)}` : ''}` })
      return
    }
    if (ownership === undefined || guildId === undefined || !isGuildId(guildId)) {
      echo(req, res, body, guildId)
      return
    }
    const decision = ownership.begin(guildId)
    if (decision.kind !== 'accept') {
      const refusal = ownership.refusal(guildId, decision)
      res.writeHead(refusal.status, refusal.headers)
      res.end(refusal.body)
      return
    }
    const start = performance.timeOrigin + performance.now()
    try {
      if (entries === null) echo(req, res, body, guildId)
      else await serveEntries(req, res, guildId, body)
    } catch (err) {
      if (!res.headersSent) reply(res, 500, { error: 'storage_failed', message: (err as Error).message })
    } finally {
      if (opts.intervalLog !== undefined) {
        appendFileSync(opts.intervalLog, `${guildId} ${opts.ordinal} ${start.toFixed(3)} ${(performance.timeOrigin + performance.now()).toFixed(3)}\n`)
      }
      ownership.end(guildId)
    }
  }

  async function serveEntries (req: IncomingMessage, res: ServerResponse, guildId: GuildId, body: Buffer): Promise<void> {
    const store = opts.store
    if (store === undefined) {
      reply(res, 501, { error: 'no_storage', message: 'this gateway was started without DATA_DIR' })
      return
    }
    if (req.method === 'GET') {
      reply(res, 200, { guildId, entries: store.has(guildId) ? listEntries(store.open(guildId)) : [] })
      return
    }
    if (req.method !== 'POST') {
      reply(res, 405, { error: 'method_not_allowed', message: 'entries take GET or POST' })
      return
    }
    const requestId = req.headers['x-request-id']
    if (typeof requestId !== 'string' || requestId === '') {
      reply(res, 400, { error: 'missing_request_id', message: 'POST /guilds/<id>/entries needs an x-request-id header' })
      return
    }
    if (opts.writeDelayMs !== undefined && opts.writeDelayMs > 0) await sleep(opts.writeDelayMs)
    const seq = appendEntry(store.open(guildId), requestId, createHash('sha256').update(body).digest('hex'))
    reply(res, 201, { guildId, seq, requestId })
  }

  function echo (req: IncomingMessage, res: ServerResponse, body: Buffer, guildId: string | undefined): void {
    if (req.headers['x-echo-body'] === '1') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-ordinal': String(opts.ordinal) })
      res.end(body)
      return
    }
    reply(res, 200, {
      ordinal: opts.ordinal,
      method: req.method,
      url: req.url,
      guildId: guildId ?? null,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyBytes: body.length,
      bodySha256: createHash('sha256').update(body).digest('hex')
    })
  }

  server.on('close', () => ownership?.close())
  return server
}
