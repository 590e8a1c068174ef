import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { tied } from '../../dev/tied-spawn'

/**
 * Between SIGTERM and SIGKILL: long enough for etcd, kubelet, containerd or
 * Prometheus to flush and exit on their own, short enough that a hung one
 * does not hold a tier's clean-up.
 */
export const STOP_GRACE_MS = 10_000

/** Ends `child`: SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves once it has exited. */
export async function terminate (child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

/**
 * The long-running processes of one test tier (a control plane, a node):
 * each logs to `<logDir>/<name>.log`, and they stop in the reverse order of
 * their start, so nothing outlives what it depends on. If the test process
 * dies without stopping them, the kernel kills them (tied-spawn).
 */
export class Supervisor {
  readonly #children: Array<{ readonly command: string, readonly child: ChildProcess }> = []

  constructor (private readonly logDir: string) {}

  start (name: string, cmd: string, args: readonly string[]): ChildProcess {
    const log = createWriteStream(join(this.logDir, `${name}.log`))
    const child = spawn(...tied(cmd, args), { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.pipe(log)
    child.stderr?.pipe(log)
    this.#children.push({ command: cmd, child })
    return child
  }

  /** The one started from `binary` (a path ending in it), if any. */
  find (binary: string): ChildProcess | undefined {
    return this.#children.find(c => c.command.endsWith(`/${binary}`))?.child
  }

  async stopAll (): Promise<void> {
    for (const { child } of this.#children.splice(0).reverse()) await terminate(child)
  }
}
