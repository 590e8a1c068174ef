import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { OWNER_HEADER, REFUSAL_HEADER, TOPOLOGY_COUNT_HEADER } from '../../../service/routing/gateway-contract'

// Gateways written in other languages set these headers from the README, not
// from this module: the names are a wire contract, and the README is where
// it is published.
const README = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8')

describe('the gateway contract', () => {
  it.each([
    ['REFUSAL_HEADER', REFUSAL_HEADER],
    ['OWNER_HEADER', OWNER_HEADER],
    ['TOPOLOGY_COUNT_HEADER', TOPOLOGY_COUNT_HEADER]
  ])('%s is a lower-case x-gateway- header the README names', (_name, header) => {
    expect(header).toMatch(/^x-gateway-[a-z-]+$/)
    expect(README).toContain(`\`${header}\``)
  })

  it('the three headers are distinct', () => {
    expect(new Set([REFUSAL_HEADER, OWNER_HEADER, TOPOLOGY_COUNT_HEADER]).size).toBe(3)
  })
})
