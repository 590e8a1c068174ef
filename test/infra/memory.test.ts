import { describe, expect, it } from 'vitest'
import { quantityMiB, routerNodeOptions } from '../../infra/memory'

describe('memory quantities', () => {
  it.each([
    ['192Mi', 192], ['1Gi', 1024], ['0.5Gi', 512], ['262144Ki', 256], ['268435456', 256], ['200M', 200e6 / 2 ** 20], ['1.5G', 1.5e9 / 2 ** 20]
  ])('%s is %d MiB', (quantity, mib) => {
    expect(quantityMiB(quantity)).toBeCloseTo(mib, 9)
  })

  it.each(['', 'lots', '1 Gi', '1GB', '-1Mi', 'Mi'])('%j is refused, by name', quantity => {
    expect(() => quantityMiB(quantity)).toThrow(`not a memory quantity: ${JSON.stringify(quantity)}`)
  })

  it('leaves the old generation what the limit holds beyond the rest of the router, in whole MiB', () => {
    expect(routerNodeOptions('192Mi')).toBe('--max-old-space-size=92')
    expect(routerNodeOptions('200M')).toBe('--max-old-space-size=90')
  })
})
