import { hash } from 'node:crypto'

/**
 * What every peer proxy in `npm run bench` shares with guild-router: the
 * listening port, the gateway origins, and the original routing rule (md5 of
 * the `x-guild-id` header, first 4 bytes big-endian, mod N). Each peer does
 * the same work per request as far as routing goes, so the bench compares
 * the proxies, not the hash.
 */
export const port = Number(process.env.PORT ?? 0)
export const gateways: readonly string[] = (process.env.GATEWAY_URLS ?? '').split(',')

export function ownerOf (guildId: string): number {
  return hash('md5', guildId, 'buffer').readUInt32BE(0) % gateways.length
}

/** The line the bench waits for, as the router prints it. */
export function announce (listening: number): void {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: listening })}\n`)
}
