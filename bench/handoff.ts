import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { backup, DatabaseSync } from 'node:sqlite'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { startNode, type NodeProcess } from '../dev/processes'
import { freePort } from '../dev/free-port'
import { ENTRIES_SCHEMA } from '../service/gateway/guild-entries'
import { md5Mod } from '../service/routing/strategies'
import { seededSnowflakes } from '../service/routing/snowflakes'
import { machine } from './bench-tools'

/**
 * How fast a guild's data moves between two gateway processes, beside a local
 * `node:sqlite` backup() of the same files on the same machine: the floor the
 * handoff is held to is half the local rate.
 *   npm run bench:handoff -- [--guilds 500] [--rows 200] [--row-bytes 512]
 * Gateway 0 holds every guild under a topology of one pod; its topology then
 * changes to two pods, under which every one of these guilds belongs to
 * gateway 1, and the clock runs until gateway 0 has nothing left to send.
 */
const { values: flags } = parseArgs({
  options: {
    guilds: { type: 'string', default: '500' },
    rows: { type: 'string', default: '200' },
    'row-bytes': { type: 'string', default: '512' }
  }
})
const GUILDS = Number(flags.guilds)
const ROWS = Number(flags.rows)
const ROW_BYTES = Number(flags['row-bytes'])
const MiB = 1024 * 1024

function makeGuilds (dir: string, guilds: string[]): number {
  mkdirSync(join(dir, 'guilds'), { recursive: true })
  let bytes = 0
  for (const id of guilds) {
    const path = join(dir, 'guilds', `${id}.sqlite`)
    const db = new DatabaseSync(path)
    db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; ${ENTRIES_SCHEMA} CREATE TABLE payload (n INTEGER PRIMARY KEY, data BLOB NOT NULL) STRICT;`)
    const insert = db.prepare('INSERT INTO payload (n, data) VALUES (?, ?)')
    db.exec('BEGIN')
    for (let n = 0; n < ROWS; n++) insert.run(n, randomBytes(ROW_BYTES))
    db.exec('COMMIT')
    db.close()
    bytes += statSync(path).size
  }
  return bytes
}

async function localBackup (from: string, guilds: string[]): Promise<number> {
  const to = join(from, '..', 'backup')
  mkdirSync(to, { recursive: true })
  const t0 = performance.now()
  for (const id of guilds) {
    const db = new DatabaseSync(join(from, 'guilds', `${id}.sqlite`))
    await backup(db, join(to, `${id}.sqlite`))
    db.close()
  }
  return performance.now() - t0
}

async function status (peerUrl: string): Promise<{ settled: boolean, clean: boolean, handoff: { sending: { guilds: number } } }> {
  const res = await request(`${peerUrl}/topology`)
  return await res.body.json() as { settled: boolean, clean: boolean, handoff: { sending: { guilds: number } } }
}

async function main (): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'guild-router-bench-handoff-'))
  const children: NodeProcess[] = []
  try {
    // Guilds that all belong to pod 1 of 2 under md5-mod, so every one moves.
    const guilds = [...seededSnowflakes(GUILDS * 4, 77n)].filter(g => md5Mod(g, 2) === 1).slice(0, GUILDS)
    const data0 = join(dir, 'data-0')
    const data1 = join(dir, 'data-1')
    mkdirSync(data1)
    const bytes = makeGuilds(data0, guilds)
    const backupMs = await localBackup(data0, guilds)

    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()])
    const peers = join(dir, 'peers')
    writeFileSync(peers, `http://127.0.0.1:${ports[1]}\nhttp://127.0.0.1:${ports[3]}\n`)
    const topo = (n: number, count: number): string => {
      const file = join(dir, `topology-${n}.json`)
      writeFileSync(file, JSON.stringify({ strategy: 'md5-mod', count }))
      return file
    }
    const start = (n: number, data: string, count: number): NodeProcess => startNode('gateway/reference-gateway-main.js', {
      ORDINAL: String(n), PORT: String(ports[n * 2]), PEER_PORT: String(ports[n * 2 + 1]), DATA_DIR: data,
      TOPOLOGY_FILE: topo(n, count), PEERS_FILE: peers, TOPOLOGY_POLL_MS: '20', TOPOLOGY_LIST_FRESHNESS_MS: '0'
    })
    children.push(start(0, data0, 1), start(1, data1, 2))
    await Promise.all(children.map(async c => await c.listening))
    // Pod 0 holds and owns every guild; the clock starts when its topology file says two pods.
    const peer0 = `http://127.0.0.1:${ports[1]}`
    const t0 = performance.now()
    topo(0, 2)
    for (;;) {
      const s = await status(peer0)
      if (s.clean && s.handoff.sending.guilds === 0) break
      await sleep(10)
    }
    const handoffMs = performance.now() - t0

    const rate = (ms: number): string => `${(bytes / MiB / (ms / 1000)).toFixed(1)} MiB/s, ${(guilds.length / (ms / 1000)).toFixed(0)} guilds/s`
    process.stdout.write([
      `handoff bench: ${guilds.length} guilds of ${(bytes / guilds.length / 1024).toFixed(0)} KiB (${(bytes / MiB).toFixed(1)} MiB in all) — ${machine()}`,
      `  local node:sqlite backup()       ${rate(backupMs)}  (${backupMs.toFixed(0)} ms)`,
      `  handoff between two gateways     ${rate(handoffMs)}  (${handoffMs.toFixed(0)} ms)`,
      `  handoff ÷ backup                 ${(backupMs / handoffMs).toFixed(2)} (the floor is 0.50)`,
      ''
    ].join('\n'))
  } finally {
    await Promise.allSettled(children.map(async c => await c.stop('SIGTERM')))
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch(err => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
