import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Supervisor, terminate } from './supervisor'

describe('Supervisor', () => {
  it('logs each process to its file and stops them newest first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supervisor-'))
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
    const processes = new Supervisor(mkdtempSync(join(tmpdir(), 'supervisor-')))
    const stubborn = processes.start('stubborn', process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"])
    await new Promise(resolve => stubborn.stdout?.once('data', resolve))
    await terminate(stubborn, 200)
    expect(stubborn.signalCode).toBe('SIGKILL')
  })
})
