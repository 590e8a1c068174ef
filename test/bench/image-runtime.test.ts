import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { routerRuntime } from '../../bench/image-runtime'
import { routerNodeOptions } from '../../infra/memory'
import { testScratchDir } from '../helpers/scratch-dir'

const ROOT = join(__dirname, '..', '..')

describe('the benchmarks start the router as its pod does', () => {
  it('with the node flags of the Dockerfile\'s CMD, its final stage\'s ENV, and the Deployment\'s heap cap for the default limit', () => {
    const runtime = routerRuntime(ROOT)
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1] as string
    expect(['node', ...runtime.flags, 'dist/service/main.js']).toEqual(JSON.parse(cmd))
    expect(runtime.flags.length).toBeGreaterThan(0)
    expect(runtime.env).toMatchObject({ NODE_ENV: 'production', NODE_OPTIONS: routerNodeOptions('192Mi') })
    expect(Object.keys(runtime.env)).toContain('MALLOC_ARENA_MAX')
  })

  it('reads only the final stage, and refuses a CMD that does not run the router under node', () => {
    const dir = testScratchDir('runtime-')
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(ROOT, 'Pulumi.yaml')))
    writeFileSync(join(dir, 'Dockerfile'), 'FROM a AS build\nENV BUILD_ONLY=1\nCMD ["node", "--x", "dist/service/main.js"]\n\nFROM b\nENV KEPT=1\nCMD ["node", "dist/service/main.js"]\n')
    expect(routerRuntime(dir)).toEqual({ flags: [], env: { KEPT: '1', NODE_OPTIONS: routerNodeOptions('192Mi') } })
    writeFileSync(join(dir, 'Dockerfile'), 'FROM b\nCMD ["sh", "-c", "node dist/service/main.js"]\n')
    expect(() => routerRuntime(dir)).toThrow('CMD does not start the router with node')
  })
})
