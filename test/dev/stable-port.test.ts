import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { stablePort } from '../../dev/stable-port'

describe('stablePort', () => {
  it('hands out ports outside the ephemeral range, never one twice, and skips a port someone listens on', async () => {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number]
    const first = await stablePort('127.0.0.1', 5)
    const taken = createServer()
    taken.listen(first + 1, '127.0.0.1')
    await once(taken, 'listening')
    try {
      const next = [await stablePort('127.0.0.1', 5), await stablePort('127.0.0.1', 5)]
      expect(next).toEqual([first + 2, first + 3]) // first + 1 is listened on
      const other = await stablePort('127.0.0.1', 6)
      for (const port of [first, ...next, other]) expect(port < low || port > high, `${port} in ${low}-${high}`).toBe(true)
      expect(Math.abs(other - first)).toBeGreaterThan(100) // another stripe
    } finally {
      taken.close()
    }
  })
})
