import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import { HandoffJournal } from '../../../service/gateway/handoff-journal'

// A real journal file in a temporary directory; "restart" closes it and opens
// a new HandoffJournal on the same directory, as a gateway does after a crash.
const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

function freshDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'))
  dirs.push(dir)
  return dir
}

function restart (j: HandoffJournal, dir: string): HandoffJournal {
  j.close()
  return new HandoffJournal(dir)
}

describe('HandoffJournal: what a gateway remembers across a crash', () => {
  it('starts empty, creating its directory', () => {
    const dir = join(freshDir(), 'nested', 'state')
    const j = new HandoffJournal(dir)
    expect(j.horizon).toBeUndefined()
    expect(j.settledVersion).toBeUndefined()
    expect(j.outgoing()).toEqual([])
    expect(j.importing()).toEqual([])
    expect(j.received('t1')).toBeUndefined()
    j.close()
  })

  it('keeps the horizon as a number, and overwrites it', () => {
    const dir = freshDir()
    let j = new HandoffJournal(dir)
    j.horizon = 4
    j = restart(j, dir)
    expect(j.horizon).toBe(4)
    j.horizon = 3
    j = restart(j, dir)
    expect(j.horizon).toBe(3)
    j.close()
  })

  it('keeps the settled version, overwrites it, and clears it on undefined', () => {
    const dir = freshDir()
    let j = new HandoffJournal(dir)
    j.settledVersion = 'jump/3'
    j = restart(j, dir)
    expect(j.settledVersion).toBe('jump/3')
    j.settledVersion = 'jump/4'
    j = restart(j, dir)
    expect(j.settledVersion).toBe('jump/4')
    j.settledVersion = undefined
    j = restart(j, dir)
    expect(j.settledVersion).toBeUndefined()
    j.horizon = 5
    expect(j.settledVersion).toBeUndefined()
    j.close()
  })

  it('the horizon and the settled version are separate keys', () => {
    const dir = freshDir()
    const j = new HandoffJournal(dir)
    j.horizon = 4
    j.settledVersion = 'md5-mod/4'
    expect(j.horizon).toBe(4)
    expect(j.settledVersion).toBe('md5-mod/4')
    j.settledVersion = undefined
    expect(j.horizon).toBe(4)
    j.close()
  })

  it('remembers each outgoing guild with its fixed destination and transfer id until removed', () => {
    const dir = freshDir()
    let j = new HandoffJournal(dir)
    j.addOutgoing({ guildId: '10', to: 3, transferId: 'a' })
    j.addOutgoing({ guildId: '11', to: 0, transferId: 'b' })
    j = restart(j, dir)
    expect(j.outgoing().sort((x, y) => x.guildId.localeCompare(y.guildId))).toEqual([
      { guildId: '10', to: 3, transferId: 'a' },
      { guildId: '11', to: 0, transferId: 'b' }
    ])
    j.removeOutgoing('10')
    j = restart(j, dir)
    expect(j.outgoing()).toEqual([{ guildId: '11', to: 0, transferId: 'b' }])
    j.close()
  })

  it('refuses a second outgoing entry for a guild: its destination is fixed once fenced', () => {
    const j = new HandoffJournal(freshDir())
    j.addOutgoing({ guildId: '10', to: 3, transferId: 'a' })
    expect(() => { j.addOutgoing({ guildId: '10', to: 1, transferId: 'b' }) }).toThrow(/UNIQUE/)
    expect(j.outgoing()).toEqual([{ guildId: '10', to: 3, transferId: 'a' }])
    j.close()
  })

  it('tracks a received transfer from importing to done, and forgets it', () => {
    const dir = freshDir()
    let j = new HandoffJournal(dir)
    j.markReceived('t1', '10', 'importing')
    j.markReceived('t2', '11', 'importing')
    j = restart(j, dir)
    expect(j.received('t1')).toEqual({ guildId: '10', state: 'importing' })
    expect(j.importing().sort((x, y) => x.transferId.localeCompare(y.transferId))).toEqual([
      { transferId: 't1', guildId: '10' },
      { transferId: 't2', guildId: '11' }
    ])
    j.markReceived('t1', '10', 'done')
    j = restart(j, dir)
    expect(j.received('t1')).toEqual({ guildId: '10', state: 'done' })
    expect(j.importing()).toEqual([{ transferId: 't2', guildId: '11' }])
    j.forgetReceived('t2')
    j = restart(j, dir)
    expect(j.received('t2')).toBeUndefined()
    expect(j.importing()).toEqual([])
    expect(j.received('t1')).toEqual({ guildId: '10', state: 'done' })
    j.close()
  })

  it('writes through to disk before it returns: another connection sees each write at once', () => {
    // synchronous=FULL with autocommit: the protocol acts on a journal entry
    // only after it is durable, so a second reader must see it immediately.
    const dir = freshDir()
    const j = new HandoffJournal(dir)
    j.addOutgoing({ guildId: '10', to: 3, transferId: 'a' })
    j.horizon = 4
    const reader = new DatabaseSync(join(dir, 'handoff-journal.sqlite'), { readOnly: true })
    expect(reader.prepare('SELECT guild, to_ordinal, transfer_id FROM outgoing').all()).toEqual([{ guild: '10', to_ordinal: 3, transfer_id: 'a' }])
    expect(reader.prepare("SELECT value FROM meta WHERE key = 'horizon'").get()).toEqual({ value: '4' })
    reader.close()
    j.close()
  })

  it('close() closes the file, and twice is harmless', () => {
    const j = new HandoffJournal(freshDir())
    j.close()
    expect(() => j.horizon).toThrow(/not open/)
    expect(() => { j.close() }).not.toThrow()
  })
})
