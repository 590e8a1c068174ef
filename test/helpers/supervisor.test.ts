import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SERVICE_DIR } from '../../dev/processes'
import { Supervisor, terminate } from './supervisor'
import { testScratchDir } from './scratch-dir'

describe('Supervisor', () => {
  it('logs each process to its file and stops them newest first', async () => {
    const dir = testScratchDir('supervisor-')
    const processes = new Supervisor(dir)
    const stopped: string[] = []
    for (const name of ['first', 'second']) {
      const child = processes.start(name, process.execPath, ['-e', `console.log('${name} up'); setInterval(() => {}, 1000)`])
      child.once('exit', () => stopped.push(name))
    }
    await new Promise(resolve => setTimeout(resolve, 500))
    expect(processes.find('node')).toBeDefined()
    await processes.stopAll()
    expect(stopped).toEqual(['second', 'first'])
    expect(readFileSync(join(dir, 'first.log'), 'utf8')).toBe('first up\n')
  })

  it('kills what ignores SIGTERM once the grace time is over', async () => {
    const processes = new Supervisor(testScratchDir('supervisor-'))
    const stubborn = processes.start('stubborn', process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"])
    await new Promise(resolve => stubborn.stdout?.once('data', resolve))
    await terminate(stubborn, 200)
    expect(stubborn.signalCode).toBe('SIGKILL')
  })

  it('leaves nothing running when the test process dies without stopping what it started', async () => {
    // A stand-in for a test runner killed mid-tier: it starts a long-lived
    // child the way every tier does (dist/dev/tied-spawn), prints its pid and
    // is then SIGKILLed, so no clean-up of its own ever runs.
    const module = join(SERVICE_DIR, '..', 'dev', 'tied-spawn.js')
    const runner = spawn(process.execPath, ['-e', `
      const { tied } = require(${JSON.stringify(module)})
      const child = require('node:child_process').spawn(...tied(process.execPath, ['-e', 'setInterval(() => {}, 1000)']), { stdio: 'ignore' })
      child.once('spawn', () => console.log(child.pid))
      setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] })
    const [line] = await once(runner.stdout, 'data') as [Buffer]
    const pid = Number(line.toString().trim())
    expect(alive(pid)).toBe(true)
    runner.kill('SIGKILL')
    await once(runner, 'exit')
    // The kernel sends the death signal as the runner exits; the orphan is then reaped by init.
    for (let i = 0; i < 500 && alive(pid); i++) await new Promise(resolve => setTimeout(resolve, 10))
    const survived = alive(pid)
    if (survived) process.kill(pid, 'SIGKILL') // so a failing run leaks nothing either
    expect(survived).toBe(false)
  })
})

/** Running, or stopped: anything but gone or a zombie. */
function alive (pid: number): boolean {
  const stat = `/proc/${pid}/stat`
  if (!existsSync(stat)) return false
  try {
    return readFileSync(stat, 'utf8').split(') ')[1]?.[0] !== 'Z'
  } catch {
    return false
  }
}
