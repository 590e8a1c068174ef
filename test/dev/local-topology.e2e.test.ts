import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { SERVICE_DIR } from '../../dev/processes'
import { seededSnowflakes } from '../../service/routing/snowflakes'
import { testScratchDir } from '../helpers/scratch-dir'

/**
 * `npm start`'s topology as a real process tree. Its children inherit its
 * environment, so a marker variable finds every process it started, even
 * after they would have been orphaned.
 */
const blockers: Array<ReturnType<typeof createServer>> = []
afterEach(() => { for (const b of blockers.splice(0)) b.close() })

function processesWith (marker: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(join('/proc', entry, 'environ'), 'latin1').split('\0').includes(marker)) pids.push(Number(entry))
    } catch { /* gone, or not ours to read */ }
  }
  return pids
}

describe('npm start when the router port is taken (issue 13)', () => {
  it('exits non-zero with one line and leaves none of the gateways it started running', async () => {
    const blocker = createServer()
    blockers.push(blocker)
    blocker.listen(0, '127.0.0.1')
    await once(blocker, 'listening')
    const taken = (blocker.address() as AddressInfo).port

    const marker = `GUILD_ROUTER_TOPOLOGY_TEST=${randomUUID()}`
    // Its own temp dir, to see that the data directory it made is gone too.
    const tmp = testScratchDir('local-topology-')
    const child = spawn(process.execPath, [join(SERVICE_DIR, '..', 'dev', 'local-topology.js')], {
      env: { ...process.env, TMPDIR: tmp, HOST: '127.0.0.1', PORT: String(taken), ADMIN_PORT: '0', LOG_LEVEL: 'warn', [marker.split('=')[0] as string]: marker.split('=')[1] },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    child.stdout.resume()
    const [code] = await once(child, 'exit') as [number | null]

    expect(code).toBe(1)
    expect(stderr).toMatch(/^local topology: main\.js exited with 1 before listening: .*EADDRINUSE/m)
    // Every gateway was stopped before the topology exited: none is left.
    expect(processesWith(marker)).toEqual([])
    expect(readdirSync(tmp)).toEqual([])
  })
})

describe('npm start rescaled while it runs', () => {
  it('typing a count moves every guild with its entries, up and down, and Ctrl-C leaves nothing running', async () => {
    const marker = `GUILD_ROUTER_TOPOLOGY_TEST=${randomUUID()}`
    const tmp = testScratchDir('local-topology-')
    const child = spawn(process.execPath, [join(SERVICE_DIR, '..', 'dev', 'local-topology.js')], {
      env: { ...process.env, TMPDIR: tmp, HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: '0', LOG_LEVEL: 'warn', [marker.split('=')[0] as string]: marker.split('=')[1] },
      stdio: ['pipe', 'pipe', 'inherit']
    })
    const lines: string[] = []
    const waiters: Array<() => void> = []
    createInterface({ input: child.stdout }).on('line', l => { lines.push(l); for (const w of waiters.splice(0)) w() })
    const line = async (pattern: RegExp): Promise<string> => {
      for (;;) {
        const found = lines.find(l => pattern.test(l))
        if (found !== undefined) return found
        await new Promise<void>((resolve, reject) => { waiters.push(resolve); child.once('exit', () => reject(new Error(`exited before ${String(pattern)}: ${lines.join('\n')}`))) })
      }
    }
    try {
      let base = /router\s+(http:\S+)/.exec(await line(/^\s+router\s+http/))![1]!
      await line(/Type a pod count/)
      const guilds = [...seededSnowflakes(12, 8n)]
      const written = new Map<string, string[]>()
      for (const g of guilds) {
        for (let i = 0; i < 3; i++) {
          const id = randomUUID()
          const res = await request(`${base}/guilds/${g}/entries`, { method: 'POST', headers: { 'x-request-id': id }, body: `e${i}` })
          expect(res.statusCode).toBe(201)
          await res.body.dump()
          written.set(g, [...(written.get(g) ?? []), id])
        }
      }
      for (const to of [5, 2]) {
        child.stdin.write(`${to}\n`)
        base = /router (http:\S+)/.exec(await line(new RegExp(`^rescaled to ${to}:`)))![1]!
        for (const g of guilds) {
          const res = await request(`${base}/guilds/${g}/entries`)
          const body = await res.body.json() as { entries?: Array<{ requestId: string, seq: number }> }
          expect(`${g} ${res.statusCode}`).toBe(`${g} 200`)
          expect(body.entries?.map(e => e.requestId)).toEqual(written.get(g))
        }
      }
    } finally {
      child.kill('SIGINT')
      await once(child, 'exit')
    }
    expect(processesWith(marker)).toEqual([])
    expect(readdirSync(tmp)).toEqual([])
  }, 120_000)
})
