import { describe, expect, it } from 'vitest'
import { InvalidGuildIdError } from '../../../service/errors'
import { guildIdProblem, parseGuildId } from '../../../service/routing/guild-id'

describe('guild ids', () => {
  it.each([
    '0', '1', '81384788765712384', '9007199254740993', '18446744073709551615', '99999999999999999'
  ])('accepts %s', id => {
    expect(guildIdProblem(id)).toBeUndefined()
    expect(parseGuildId(id)).toBe(id)
  })

  it.each([
    ['', 'is empty'],
    ['0123', 'leading zero'],
    ['00', 'leading zero'],
    ['18446744073709551616', 'exceeds 2^64-1'],
    ['99999999999999999999', 'exceeds 2^64-1'],
    ['123456789012345678901', 'more than 20 digits'],
    ['+123', 'decimal digits only'],
    ['-1', 'decimal digits only'],
    [' 123', 'decimal digits only'],
    ['123 ', 'decimal digits only'],
    ['12a', 'decimal digits only'],
    ['1e5', 'decimal digits only'],
    ['１２３', 'decimal digits only'], // full-width digits are not ASCII
    ['0x10', 'decimal digits only']
  ])('rejects %j (%s)', (id, why) => {
    expect(guildIdProblem(id)).toContain(why)
    expect(() => parseGuildId(id, 'header x-guild-id')).toThrow(InvalidGuildIdError)
    expect(() => parseGuildId(id, 'header x-guild-id')).toThrow(/header x-guild-id/)
  })
})
