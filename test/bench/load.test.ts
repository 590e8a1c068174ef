import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const LOAD = join(__dirname, '..', '..', 'dist', 'bench', 'load.js')

describe('npm run load, short and bounded', () => {
  it.each(['md5-mod', 'jump'])('routes every request to its owner with 3 routers and 3 gateways (%s)', async strategy => {
    const { stdout } = await run(process.execPath, [LOAD, '--duration', '3', '--requests', '4000', '--concurrency', '24', '--strategy', strategy])
    expect(stdout).toMatch(/^misrouted: 0$/m)
    const done = Number(/^requests: (\d+) in/m.exec(stdout)?.[1])
    expect(done).toBeGreaterThan(500)
    expect(stdout).toMatch(/^ok \d+, errors none$/m)
    // Every pod served a share.
    const shares = [...stdout.matchAll(/(\d): (\d+) \(/g)].map(m => Number(m[2]))
    expect(shares).toHaveLength(3)
    expect(Math.min(...shares)).toBeGreaterThan(0)
  }, 60_000)
})
