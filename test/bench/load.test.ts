import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const LOAD = join(__dirname, '..', '..', 'dist', 'bench', 'load.js')

describe('npm run load, short and bounded', () => {
  it.each(['md5-mod', 'jump'])('routes every request to its owner with 3 routers and 3 gateways (%s)', async strategy => {
    // Bounded by the request count; the duration is only a backstop, so a busy
    // machine does the same 1500 requests, more slowly.
    const { stdout } = await run(process.execPath, [LOAD, '--duration', '50', '--requests', '1500', '--concurrency', '24', '--strategy', strategy])
    expect(stdout).toMatch(/^misrouted: 0$/m)
    expect(stdout).toMatch(/^requests: 1500 in/m)
    expect(stdout).toMatch(/^ok \d+, errors none$/m)
    // Every pod served a share.
    const shares = [...stdout.matchAll(/(\d): (\d+) \(/g)].map(m => Number(m[2]))
    expect(shares).toHaveLength(3)
    expect(Math.min(...shares)).toBeGreaterThan(0)
  }, 60_000)
})
