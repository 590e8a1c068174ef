import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { mountPointsUnder, removeScratchDir, scratchDir } from './scratch-dir'

describe('scratch directories', () => {
  it('are removed with everything in them', () => {
    const dir = scratchDir('scratch-test-')
    mkdirSync(join(dir, 'a', 'b'), { recursive: true })
    writeFileSync(join(dir, 'a', 'b', 'log'), 'x')
    removeScratchDir(dir)
    expect(existsSync(dir)).toBe(false)
  })

  it('are not removed while something is mounted below them, and the error names the mount', () => {
    const dir = scratchDir('scratch test ')
    const point = join(dir, 'mounted here')
    mkdirSync(point)
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', point])
    try {
      writeFileSync(join(point, 'kept'), 'x')
      expect(mountPointsUnder(dir)).toEqual([point])
      expect(() => { removeScratchDir(dir) }).toThrow(`still mounted below it: ${point}`)
      expect(existsSync(join(point, 'kept'))).toBe(true)
    } finally {
      execFileSync('umount', [point])
    }
    removeScratchDir(dir)
    expect(existsSync(dir)).toBe(false)
  })
})
