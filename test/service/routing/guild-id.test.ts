import { describe, expect, it } from 'vitest'
import { InvalidGuildIdError } from '../../../service/errors'
import { clip, guildIdProblem, isGuildId, parseGuildId } from '../../../service/routing/guild-id'

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

describe('guild id edges', () => {
  it('says which of too long and not canonical applies, at the 20-digit boundary', () => {
    expect(guildIdProblem('0' + '1'.repeat(19))).toBe('has a leading zero (not canonical)')
    expect(guildIdProblem('1'.repeat(21))).toBe('has more than 20 digits')
  })

  it('isGuildId agrees with guildIdProblem', () => {
    expect(isGuildId('81384788765712384')).toBe(true)
    expect(isGuildId('081384788765712384')).toBe(false)
  })

  it('parseGuildId names its source, "input" unless told', () => {
    expect(() => parseGuildId('x')).toThrow('guild id from input "x" must be decimal digits only')
    expect(() => parseGuildId('x', 'path')).toThrow('guild id from path "x"')
  })

  it('clip keeps 40 characters and marks a cut', () => {
    expect(clip('a'.repeat(40))).toBe('a'.repeat(40))
    expect(clip('a'.repeat(41))).toBe(`${'a'.repeat(40)}…`)
  })
})

