import { setTimeout as sleep } from 'node:timers/promises'
import type { OwnershipStatus } from './gateway-ownership'
import { barrierVerdict } from './handoff-barrier'
import { dnsPeers, peerStatus } from './peers'
import { parseTopology } from './topology'

/**
 * The program's handoff barrier, run as a Job between the topology ConfigMap
 * and the StatefulSet: `pulumi up` shrinks the StatefulSet only after this
 * exits 0, so no pod is deleted while it still holds guilds. Env: PEERS_SERVICE,
 * PEER_PORT, TARGET_TOPOLOGY (the ConfigMap's topology.json), POLL_MS. It
 * prints what it waits for; the Job's activeDeadlineSeconds bounds it, and a
 * failed Job stops `pulumi up` before the shrink.
 */
const env = process.env
const target = parseTopology(env.TARGET_TOPOLOGY ?? '', 'TARGET_TOPOLOGY')
const peers = dnsPeers(env.PEERS_SERVICE ?? '', Number(env.PEER_PORT))
const pollMs = Number(env.POLL_MS ?? '1000')
const say = (line: Record<string, unknown>): void => { process.stdout.write(`${JSON.stringify({ ...line, role: 'handoff-barrier' })}\n`) }

async function ask (url: string): Promise<OwnershipStatus | undefined> {
  return await peerStatus(url, 2000) as OwnershipStatus | undefined
}

async function main (): Promise<void> {
  let lastSaid = ''
  /** A name with no pods behind it, several times in a row: no gateway exists yet (the first `pulumi up`). */
  let absent = 0
  for (;;) {
    let urls: string[]
    try {
      urls = await peers()
      absent = 0
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOTFOUND' && ++absent >= 3) {
        say({ msg: 'no gateway pods exist: nothing to hand off' })
        return
      }
      await sleep(pollMs)
      continue
    }
    const verdict = barrierVerdict(target, await Promise.all(urls.map(ask)))
    if (verdict.done) {
      say({ msg: 'handoff complete: the StatefulSet may shrink', target })
      return
    }
    const text = verdict.waiting.join('; ')
    if (text !== lastSaid) say({ msg: 'waiting for the handoff', target, waiting: verdict.waiting })
    lastSaid = text
    await sleep(pollMs)
  }
}

void main().then(() => process.exit(0), err => {
  process.stderr.write(`handoff barrier: ${(err as Error).message}\n`)
  process.exit(1)
})
