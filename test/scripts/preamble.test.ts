import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const PREAMBLE = join(__dirname, '..', '..', 'scripts', 'lib', 'preamble.sh')

function bash (body: string): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync('bash', ['-c', `LOG_TAG=t; source '${PREAMBLE}'\n${body}`], { encoding: 'utf8', env: { ...process.env, GUILD_ROUTER_TOOLCHAIN: '/tmp/toolchain-x' } })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('scripts/lib/preamble.sh', () => {
  it('runs every step at once and waits for all of them', () => {
    const r = bash('a() { sleep 0.3; echo a; }; b() { echo b; }; run_parallel a b; echo done "$CACHE"')
    expect(r.status).toBe(0)
    expect(r.stdout).toBe('b\na\ndone /tmp/toolchain-x\n')
  })

  it('fails once every step has ended when one failed, and says so on stderr', () => {
    const r = bash('a() { sleep 0.3; echo a; }; b() { exit 3; }; run_parallel a b; echo not reached')
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('a\n')
    expect(r.stderr).toMatch(/^\[t \d\d:\d\d:\d\d\] a build failed/)
  })

  it('is strict: an unset variable stops the script', () => {
    expect(bash('echo "$NOT_SET_ANYWHERE"; echo reached').status).not.toBe(0)
  })
})
