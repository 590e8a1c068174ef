import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { appendEntry, ENTRIES_SCHEMA, listEntries } from '../../../service/gateway/guild-entries'
import { SqliteGuildStore } from '../../../service/gateway/sqlite-guild-store'
import { seededSnowflakes } from '../../../service/routing/snowflakes'

const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

const openFiles = (): number => readdirSync('/proc/self/fd').length

describe('SqliteGuildStore', () => {
  it('keeps at most 256 guild databases open, and a guild closed for room keeps every committed entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guild-router-store-'))
    dirs.push(dir)
    const store = new SqliteGuildStore(dir, ENTRIES_SCHEMA)
    const guilds = [...seededSnowflakes(400, 9n)]
    const before = openFiles()
    for (const g of guilds) appendEntry(store.open(g), `first-${g}`, 'a'.repeat(64))
    // Each open database holds its file, WAL and shared memory: 400 open would be about 1,200 descriptors.
    expect(openFiles() - before).toBeLessThanOrEqual(256 * 3 + 8)
    for (const g of guilds) appendEntry(store.open(g), `second-${g}`, 'b'.repeat(64))
    for (const g of guilds) expect(listEntries(store.open(g)).map(e => e.requestId)).toEqual([`first-${g}`, `second-${g}`])
    // An export after eviction is the whole guild.
    const copy = await store.export(guilds[0]!)
    expect(copy.length).toBeGreaterThan(0)
    store.close()
  })
})
