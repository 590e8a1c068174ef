import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const ROOT = join(__dirname, '..')

describe('the summary line', () => {
  it('counts a file that failed to load, and tests whose setup failed, as failed — never as skipped', async () => {
    let stdout = ''
    let code = 0
    try {
      await run(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', join(__dirname, 'fixtures', 'reporter'),
        '--reporter', join(__dirname, 'summary-reporter.ts')], { cwd: ROOT, env: { ...process.env, CI: '1' } })
    } catch (err) {
      ({ stdout, code } = err as { stdout: string, code: number })
    }
    expect(code).toBe(1)
    expect(stdout.trim().split('\n').at(-1)).toBe('1 passed, 4 failed, 1 skipped')
  })
})
