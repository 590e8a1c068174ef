import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { SERVICE_DIR } from '../../dev/processes'

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
    const child = spawn(process.execPath, [join(SERVICE_DIR, '..', 'dev', 'local-topology.js')], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: String(taken), ADMIN_PORT: '0', LOG_LEVEL: 'warn', [marker.split('=')[0] as string]: marker.split('=')[1] },
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
  })
})
