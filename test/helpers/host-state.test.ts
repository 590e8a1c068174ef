import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { addedPlaces, listPlaces, removeAddedPlaces } from './host-state'

// The crash clean-up of the image and real-node tiers runs on the machine's
// own directories; here it runs on a scratch tree shaped like them.
const roots: string[] = []
afterEach(() => { for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true }) })

describe('host places: what a run added is removed, and nothing else', () => {
  it('removes a place that did not exist and entries added to one that did, keeping what was there', () => {
    const root = mkdtempSync(join(tmpdir(), 'places-'))
    roots.push(root)
    const existing = join(root, 'run-containers')
    const nested = join(existing, 'networks')
    const absent = join(root, 'var-lib-cni')
    mkdirSync(existing)
    writeFileSync(join(existing, 'machine-owned'), '')
    const places = [nested, existing, absent]
    const before = listPlaces(places)
    expect(before).toEqual({ [existing]: ['machine-owned'] })

    mkdirSync(nested, { recursive: true })
    writeFileSync(join(existing, 'run-owned'), '')
    mkdirSync(join(absent, 'results'), { recursive: true })
    expect(addedPlaces(places, before).sort()).toEqual([absent, nested, join(existing, 'networks'), join(existing, 'run-owned')].sort())

    removeAddedPlaces(places, before)
    expect(addedPlaces(places, before)).toEqual([])
    expect(existsSync(join(existing, 'machine-owned'))).toBe(true)
    expect(existsSync(absent)).toBe(false)
    expect(existsSync(nested)).toBe(false)
  })

  it('a place that went away is not an addition', () => {
    const root = mkdtempSync(join(tmpdir(), 'places-'))
    roots.push(root)
    const gone = join(root, 'gone')
    mkdirSync(gone)
    const before = listPlaces([gone])
    rmSync(gone, { recursive: true })
    expect(addedPlaces([gone], before)).toEqual([])
    expect(() => { removeAddedPlaces([gone], before) }).not.toThrow()
  })
})
