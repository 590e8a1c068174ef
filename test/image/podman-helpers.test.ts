import { describe, expect, it } from 'vitest'
import { splitRule } from '../helpers/iptables'
import { freeSubnet } from '../helpers/networks'

const net = (text: string): readonly [number, number] => {
  const [base = '', prefix = '32'] = text.split('/')
  return [base.split('.').reduce((n, o) => n * 256 + Number(o), 0), Number(prefix)]
}

describe('freeSubnet', () => {
  const candidates = ['10.41.57.0/24', '10.97.57.0/24']
  it.each([
    { taken: ['192.0.2.0/24', '127.0.0.0/8'], expected: '10.41.57.0/24' },
    { taken: ['10.41.57.9/32'], expected: '10.97.57.0/24' },
    { taken: [], expected: '10.41.57.0/24' },
    { taken: ['10.41.0.0/16'], expected: '10.97.57.0/24' }
  ])('with $taken taken picks $expected', ({ taken, expected }) => {
    expect(freeSubnet(taken.map(net), candidates)).toBe(expected)
  })

  it('fails, naming the candidates, when every one overlaps', () => {
    expect(() => freeSubnet([net('10.0.0.0/8')], candidates))
      .toThrow('every candidate subnet overlaps a network of this machine: 10.41.57.0/24, 10.97.57.0/24')
  })
})

describe('splitRule', () => {
  it('unescapes quotes inside a quoted comment, as CNI writes them', () => {
    expect(splitRule('-A POSTROUTING -s 10.214.0.2/32 -m comment --comment "name: \\"guild-node\\" id: \\"ab\\"" -j CNI-1a'))
      .toEqual(['-A', 'POSTROUTING', '-s', '10.214.0.2/32', '-m', 'comment', '--comment', 'name: "guild-node" id: "ab"', '-j', 'CNI-1a'])
  })

  it('keeps a quoted comment as one argument', () => {
    expect(splitRule('-A FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD'))
      .toEqual(['-A', 'FORWARD', '-m', 'comment', '--comment', 'netavark firewall plugin rules', '-j', 'NETAVARK_FORWARD'])
  })
})
