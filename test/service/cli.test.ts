import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { jump, md5Mod } from '../../service/routing/strategies'
import { PLAN_SAMPLE_SIZE } from '../../service/routing/rescale-plan'
import { seededSnowflakes } from '../../service/routing/snowflakes'
import { testScratchDir } from '../helpers/scratch-dir'

const run = promisify(execFile)
const BIN = join(__dirname, '..', '..', 'bin', 'guild-router.js')

async function cli (args: string[], env: Record<string, string> = {}): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('guild-router route', () => {
  it('prints each id and its pod', async () => {
    const ids = ['81384788765712384', '41771983423143937', '1']
    const { code, stdout } = await cli(['route', '--pods', '7', ...ids])
    expect(code).toBe(0)
    expect(stdout).toBe(ids.map(id => `${id}\t${md5Mod(id, 7)}\n`).join(''))
  })

  it('reads NUM_GATEWAY_PODS and ROUTING_STRATEGY from the environment', async () => {
    const { stdout } = await cli(['route', '81384788765712384'], { NUM_GATEWAY_PODS: '9', ROUTING_STRATEGY: 'jump' })
    expect(stdout).toBe(`81384788765712384\t${jump('81384788765712384', 9)}\n`)
  })

  it('reports a bad id on stderr with its code and exits 1, still printing the good ones', async () => {
    const { code, stdout, stderr } = await cli(['route', '--pods', '3', '0123', '5'])
    expect(code).toBe(1)
    expect(stdout).toBe(`5\t${md5Mod('5', 3)}\n`)
    expect(stderr).toMatch(/^0123\tinvalid_guild_id: has a leading zero/)
  })

  it.each([
    [['route', '1'], /--pods is required/],
    [['route', '--pods', '0', '1'], /--pods must be an integer ≥ 1/],
    [['route', '--pods', '2', '--strategy', 'ring', '1'], /--strategy must be one of md5-mod, jump, discord-shard/],
    [['frobnicate'], /unknown command "frobnicate"/]
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const { code, stderr } = await cli(args, { NUM_GATEWAY_PODS: '' })
    expect(code).toBe(2)
    expect(stderr).toMatch(message)
  })
})

describe('guild-router plan', () => {
  it('jump 3 → 4 on the sample: only moves onto pod 3, about a quarter', async () => {
    const { code, stdout } = await cli(['plan', '--from', '3', '--to', '4', '--strategy', 'jump'])
    expect(code).toBe(0)
    const flows = [...stdout.matchAll(/pod (\d+) → pod (\d+): (\d+)/g)]
    expect(flows.map(f => f[2])).toEqual(['3', '3', '3'])
    const moved = Number(new RegExp(`move: (\\d+) of ${PLAN_SAMPLE_SIZE}`).exec(stdout)?.[1])
    expect(Math.abs(moved / PLAN_SAMPLE_SIZE - 0.25)).toBeLessThan(0.01)
    expect(stdout).toContain('the least possible is 25.00%')
  })

  it('counts a file of ids exactly and lists the ones that move', async () => {
    const ids = [...seededSnowflakes(500, 3n)]
    const dir = testScratchDir('plan-')
    const file = join(dir, 'guilds.txt')
    writeFileSync(file, `# guilds on staging\n${ids.join('\n')}\n`)
    const { stdout } = await cli(['plan', '--from', '3', '--to', '4', '--ids', file])
    const moving = ids.filter(id => md5Mod(id, 3) !== md5Mod(id, 4))
    expect(stdout).toContain(`move: ${moving.length} of 500`)
    for (const id of moving) expect(stdout).toContain(`${id}\t${md5Mod(id, 3)}\t${md5Mod(id, 4)}`)
  })

  it('names the line of a bad id in the file', async () => {
    const dir = testScratchDir('plan-')
    const file = join(dir, 'guilds.txt')
    writeFileSync(file, '1\n2\nnope\n')
    const { code, stderr } = await cli(['plan', '--from', '1', '--to', '2', file])
    expect(code).toBe(2)
    expect(stderr).toContain('guilds.txt:3: guild id "nope"')
  })

  it.each([
    [['--ids'], 'no such file'],
    [[], 'no such file']
  ])('a missing file %j: one line naming it, exit 1, no stack trace', async (flags, why) => {
    const file = join(testScratchDir('plan-'), 'missing-file')
    const { code, stdout, stderr } = await cli(['plan', '--from', '3', '--to', '4', ...flags, file])
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toBe(`guild-router: cannot read guild ids from ${JSON.stringify(file)}: ${why}\n`)
  })

  it('a directory instead of a file: one line, exit 1', async () => {
    const dir = testScratchDir('plan-')
    const { code, stderr } = await cli(['plan', '--from', '3', '--to', '4', dir])
    expect(code).toBe(1)
    expect(stderr).toBe(`guild-router: cannot read guild ids from ${JSON.stringify(dir)}: it is a directory\n`)
  })
})
