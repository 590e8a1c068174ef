import { createHash } from 'node:crypto'

/**
 * A second, deliberately separate implementation of the three strategies,
 * written from their definitions without importing the router's code, so the
 * load run checks the router against something it did not compute itself.
 */
export function oracleOwner (strategy: string, guildId: string, pods: number): number {
  const digest = createHash('md5').update(guildId).digest()
  if (strategy === 'md5-mod') return digest.readUInt32BE(0) % pods
  if (strategy === 'discord-shard') return Number((BigInt(guildId) >> 22n) % BigInt(pods))
  if (strategy === 'jump') {
    // Lamping & Veach, figure 1.
    let key = digest.readBigUInt64BE(0)
    let b = -1n
    let j = 0n
    while (j < BigInt(pods)) {
      b = j
      key = (key * 2862933555777941757n + 1n) & 0xFFFFFFFFFFFFFFFFn
      j = BigInt(Math.trunc(Number(b + 1n) * (2 ** 31 / Number((key >> 33n) + 1n))))
    }
    return Number(b)
  }
  throw new Error(`unknown strategy ${strategy}`)
}
