import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const SCRIPT = join(__dirname, '..', '..', 'scripts', 'ensure-install.cjs')

async function ensure (args: string[], env: Record<string, string>): Promise<{ code: number, stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [SCRIPT, ...args], { env: { ...process.env, ...env } })
    return { code: 0, stderr }
  } catch (err) {
    const e = err as { code: number, stderr: string }
    return { code: e.code, stderr: e.stderr }
  }
}

describe('npm test set-up (scripts/ensure-install.cjs --browser)', () => {
  it('stops at once with one line naming what is missing and how to get it', async () => {
    const { code, stderr } = await ensure(['--browser'], { CHROMIUM_PATH: '/nonexistent/chromium' })
    expect(code).toBe(1)
    expect(stderr).toBe('guild-router: CHROMIUM_PATH=/nonexistent/chromium is not an executable file; ' +
      "point it at Chromium or unset it to use Debian's /usr/bin/chromium\n")
  })

  it('accepts the browser the suite will use, and leaves npm start (no --browser) alone', async () => {
    expect(await ensure(['--browser'], { CHROMIUM_PATH: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' })).toEqual({ code: 0, stderr: '' })
    expect(await ensure([], { CHROMIUM_PATH: '/nonexistent/chromium' })).toEqual({ code: 0, stderr: '' })
  })
})
