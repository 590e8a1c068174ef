import replyFrom from '@fastify/reply-from'
import Fastify from 'fastify'
import { announce, gateways, ownerOf, port } from './peer-config'

/**
 * Fastify 5 with @fastify/reply-from (undici underneath), as its README sets
 * up a proxy: bodies pass through as raw streams, the upstream is chosen per
 * request by `getUpstream`.
 */
async function main (): Promise<void> {
  const app = Fastify({ logger: false })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => { done(null, payload) })
  await app.register(replyFrom, { undici: { connections: 128 } })
  app.all('/*', (request, reply) => {
    const guildId = request.headers['x-guild-id']
    if (typeof guildId !== 'string') return reply.code(400).send()
    return reply.from(request.url, { getUpstream: () => gateways[ownerOf(guildId)] as string })
  })
  announce(Number(new URL(await app.listen({ port, host: '127.0.0.1' })).port))
}

main().catch(err => { process.stderr.write(`${String(err)}\n`); process.exit(1) })
process.once('SIGTERM', () => process.exit(0))
