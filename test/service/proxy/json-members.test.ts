import { describe, expect, it } from 'vitest'
import { topLevelValues } from '../../../service/proxy/json-members'

describe('topLevelValues', () => {
  it.each([
    ['{"a":1}', 'a', ['1']],
    ['{"a":1,"a":"x"}', 'a', ['1', '"x"']],
    ['{ "a" : 1 , "b" : 2 , "a" : [1,2] }', 'a', ['1', '[1,2]']],
    ['{"b":{"a":1},"c":[{"a":2}],"a":3}', 'a', ['3']],
    ['{"b":"a","a":"}"}', 'a', ['"}"']], // a string that looks like a name or a closing brace
    ['{"b":"\\"a\\":1","a":2}', 'a', ['2']], // escaped quotes inside a string
    ['{"\\u0061":1}', 'a', ['1']], // an escaped name
    ['{"ab":1,"b":2}', 'a', []],
    ['{"a":{"x":[1,{"y":2}]}}', 'a', ['{"x":[1,{"y":2}]}']],
    ['{}', 'a', []],
    ['{"a"\t\r\n :\n1}', 'a', ['1']], // any JSON whitespace before the colon
    ['{"b":"\\",\\"a\\":1","a":2}', 'a', ['2']], // a value with escaped quotes around a comma and a colon
    ['{"a":1,"b":[2,{"a":3}],"a":"x"}', 'a', ['1', '"x"']],
    ['{"a":{"a":{"a":1}}}', 'a', ['{"a":{"a":1}}']]
  ])('%s, %s → %j', (json, key, expected) => {
    JSON.parse(json) // the contract: only text JSON.parse accepted
    expect(topLevelValues(json, key)).toEqual(expected)
  })
})
