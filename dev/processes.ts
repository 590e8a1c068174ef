import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { join, sep } from 'node:path'
import { createInterface } from 'node:readline'
import { tied } from './tied-spawn'

/**
 * dist/service, where the compiled entry points live — also when this module
 * runs from source under the test runner. Development and test tooling only:
 * it lives outside service/ so the image does not ship it.
 */
export const SERVICE_DIR = __dirname.includes(`${sep}dist${sep}`)
  ? join(__dirname, '..', 'service')
  : join(__dirname, '..', 'dist', 'service')

export interface Listening {
  readonly port: number
  readonly adminPort?: number
  /** A gateway's peer port, when it has one. */
  readonly peerPort?: number
  /** A gateway's metrics port, when it has one. */
  readonly metricsPort?: number
}

export interface NodeProcess {
  readonly child: ChildProcess
  readonly listening: Promise<Listening>
  /** Every stdout line, for tests that read the logs. */
  readonly lines: string[]
  stop (signal?: NodeJS.Signals): Promise<number | null>
}

/**
 * Starts a compiled entry point under this same Node binary and resolves once
 * it prints its `{"msg":"listening"}` line. Rejects if it exits first, with
 * what it wrote to stderr.
 */
export function startNode (script: string, env: Record<string, string>, opts: { echo?: string } = {}): NodeProcess {
  const child = spawn(...tied(process.execPath, [join(SERVICE_DIR, script)]), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines: string[] = []
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString()
    if (opts.echo !== undefined) process.stderr.write(prefix(opts.echo, c.toString()))
  })
  const listening = new Promise<Listening>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', line => {
      lines.push(line)
      if (opts.echo !== undefined) process.stdout.write(prefix(opts.echo, `${line}\n`))
      if (!line.includes('"listening"')) return
      try {
        const parsed = JSON.parse(line) as { msg?: string, port?: number, adminPort?: number, peerPort?: number, metricsPort?: number }
        if (parsed.msg === 'listening' && typeof parsed.port === 'number') {
          resolve({ port: parsed.port, adminPort: parsed.adminPort, peerPort: parsed.peerPort, metricsPort: parsed.metricsPort })
        }
      } catch { /* not ours */ }
    })
    child.once('exit', code => reject(new Error(`${script} exited with ${code} before listening: ${stderr.trim()}`)))
  })
  listening.catch(() => {}) // reported to whoever awaits it

  return {
    child,
    listening,
    lines,
    async stop (signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      const exited = once(child, 'exit')
      child.kill(signal)
      const [code] = await exited as [number | null]
      return code
    }
  }
}

function prefix (name: string, text: string): string {
  return text.split('\n').filter(l => l !== '').map(l => `[${name}] ${l}\n`).join('')
}
