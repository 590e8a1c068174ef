import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { Client } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { Cleanup, startGateway } from '../helpers/topology'
import { until } from '../helpers/until'

const cleanup = new Cleanup()
afterAll(() => cleanup.run())

/** Whether a new TCP connection to the port is refused. */
async function refused (port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1')
  try {
    await once(socket, 'connect')
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ECONNREFUSED'
  } finally {
    socket.destroy()
  }
}

describe('the reference gateway on SIGTERM (a pod told to go)', () => {
  it('stops listening, finishes the request it is still receiving, and closes that connection after answering', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guild-router-gateway-stop-'))
    cleanup.add(async () => { rmSync(dir, { recursive: true, force: true }) })
    const requestLog = join(dir, 'requests')
    const gateway = startGateway(cleanup, 2, { REQUEST_LOG: requestLog })
    const { port } = await gateway.listening
    const client = new Client(`http://127.0.0.1:${port}`)
    cleanup.add(() => client.destroy())

    const halves = ['{"guild_id":"81384788765712384",', '"content":"still arriving"}']
    const body = new PassThrough()
    body.write(halves[0])
    const response = client.request({
      method: 'POST',
      path: '/guilds/81384788765712384/messages',
      headers: { 'content-type': 'application/json', 'x-request-id': 'in-flight', 'x-echo-body': '1' },
      body
    })
    // The gateway has the request (its head is parsed) but not all of its body.
    await until('the gateway to receive the request', async () => (existsSync(requestLog) && readFileSync(requestLog, 'utf8').includes('in-flight') ? true : undefined), 10_000)

    const exited = once(gateway.child, 'exit')
    gateway.child.kill('SIGTERM')
    await until('the listener to close', async () => ((await refused(port)) ? true : undefined), 10_000)
    body.end(halves[1])

    const res = await response
    expect(res.statusCode).toBe(200)
    expect(res.headers.connection).toBe('close')
    expect(await res.body.text()).toBe(halves.join(''))
    expect(await exited).toEqual([0, null])
  })
})

describe('the reference gateway at start', () => {
  it.each([
    ['ORDINAL=""', { ORDINAL: '' }, 'ORDINAL must be an integer ≥ 0 (got "")'],
    ['ORDINAL=1.5', { ORDINAL: '1.5' }, 'ORDINAL must be an integer ≥ 0 (got "1.5")']
  ])('refuses %s (a pod without its index label must not act as gateway-0)', async (_name, env, message) => {
    const proc = startGateway(cleanup, 0, env)
    await expect(proc.listening).rejects.toThrow(message)
    expect(proc.child.exitCode).toBe(2)
  })
})
