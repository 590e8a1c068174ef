import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import type { Cleanup } from './topology'
import { tied } from '../../dev/tied-spawn'

/** What a connect to `port` did within `ms`: connected, refused, or nothing at all. */
export function connectOutcome (port: number, ms: number): Promise<'connected' | 'refused' | 'silent'> {
  return new Promise(resolve => {
    const socket = connect(port, '127.0.0.1')
    const timer = setTimeout(() => { socket.destroy(); resolve('silent') }, ms)
    socket.once('connect', () => { clearTimeout(timer); socket.destroy(); resolve('connected') })
    socket.once('error', () => { clearTimeout(timer); resolve('refused') })
  })
}

/**
 * A loopback port that drops SYNs, as a gateway whose node is gone does: no
 * RST, no answer, without iptables or root. A stopped process listens with a
 * backlog of one, and connections no one accepts fill its queue; Linux then
 * drops every further SYN (it counts them as ListenOverflows), so a client's
 * connect only times out.
 */
export async function blackholePort (cleanup: Cleanup): Promise<number> {
  const child = spawn(...tied(process.execPath, ['-e',
    "const s = require('node:net').createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => console.log(s.address().port))"
  ]), { stdio: ['ignore', 'pipe', 'inherit'] })
  const fillers: Socket[] = []
  cleanup.add(async () => {
    for (const s of fillers) s.destroy()
    child.kill('SIGKILL')
  })
  const [line] = await once(child.stdout, 'data') as [Buffer]
  const port = Number(line.toString().trim())
  child.kill('SIGSTOP')
  // Fill the accept queue: each connect that completes stays queued.
  for (let i = 0; i < 16; i++) {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    fillers.push(socket)
    const connected = await Promise.race([
      once(socket, 'connect').then(() => true),
      new Promise<boolean>(resolve => setTimeout(() => resolve(false), 300))
    ])
    if (!connected) {
      socket.destroy()
      return port
    }
  }
  throw new Error(`port ${port} still accepts connections after 16 of them queued`)
}
