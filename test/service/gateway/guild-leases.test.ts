import { describe, expect, it } from 'vitest'
import { GuildLeases } from '../../../service/gateway/guild-leases'

/** Resolves to whether `p` settled within the current macrotask's queue. */
async function settled (p: Promise<unknown>): Promise<boolean> {
  let done = false
  void p.then(() => { done = true })
  await new Promise(resolve => setImmediate(resolve))
  return done
}

describe('GuildLeases: a guild is handed off only once no request for it runs', () => {
  it('counts the requests running per guild, and forgets a guild at zero', () => {
    const leases = new GuildLeases()
    leases.begin('1')
    leases.begin('1')
    leases.begin('2')
    expect(leases.running('1')).toBe(2)
    expect(leases.running('2')).toBe(1)
    expect(leases.running('3')).toBe(0)
    expect(leases.guilds().sort()).toEqual(['1', '2'])
    leases.end('1')
    expect(leases.running('1')).toBe(1)
    expect(leases.guilds().sort()).toEqual(['1', '2'])
    leases.end('1')
    expect(leases.running('1')).toBe(0)
    expect(leases.guilds()).toEqual(['2'])
  })

  it('drained() resolves at once for a guild with nothing running', async () => {
    const leases = new GuildLeases()
    expect(await settled(leases.drained('1'))).toBe(true)
    leases.begin('2')
    expect(await settled(leases.drained('1'))).toBe(true)
  })

  it('drained() waits for the last of several requests, not the first', async () => {
    const leases = new GuildLeases()
    leases.begin('1')
    leases.begin('1')
    const a = leases.drained('1')
    const b = leases.drained('1')
    expect(await settled(a)).toBe(false)
    leases.end('1')
    expect(await settled(a)).toBe(false)
    expect(await settled(b)).toBe(false)
    leases.end('1')
    expect(await settled(a)).toBe(true)
    expect(await settled(b)).toBe(true)
  })

  it('another guild ending does not wake a guild still running', async () => {
    const leases = new GuildLeases()
    leases.begin('1')
    leases.begin('2')
    const one = leases.drained('1')
    leases.end('2')
    expect(await settled(one)).toBe(false)
    leases.end('1')
    expect(await settled(one)).toBe(true)
  })

  it('waiters are woken once: a guild that runs again makes a new drain wait', async () => {
    const leases = new GuildLeases()
    leases.begin('1')
    const first = leases.drained('1')
    leases.end('1')
    expect(await settled(first)).toBe(true)
    leases.begin('1')
    const second = leases.drained('1')
    expect(await settled(second)).toBe(false)
    leases.end('1')
    expect(await settled(second)).toBe(true)
  })

  it('an unmatched end() leaves the guild at zero, not negative', () => {
    const leases = new GuildLeases()
    leases.end('1')
    expect(leases.running('1')).toBe(0)
    expect(leases.guilds()).toEqual([])
    leases.begin('1')
    expect(leases.running('1')).toBe(1)
  })
})
