import { execFile, execFileSync } from 'node:child_process'
import { join } from 'node:path'

export const ROOT = join(__dirname, '..', '..')

export interface Result { readonly code: number, readonly stdout: string, readonly stderr: string }

/**
 * The environment that points podman at the image test's own configuration
 * and storage (scripts/image/podman-env.sh writes it), never the machine's.
 */
export function podmanEnv (): Record<string, string> {
  const text = execFileSync(join(ROOT, 'scripts/image/podman-env.sh'), { encoding: 'utf8' })
  const env: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return { ...process.env as Record<string, string>, ...env }
}

/** Runs podman with that environment; resolves with the exit code whatever it is. */
export function podmanTry (env: Record<string, string>, args: readonly string[], timeoutMs = 120_000): Promise<Result> {
  return new Promise(resolve => {
    execFile('podman', args, { env, timeout: timeoutMs, maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout, stderr })
    })
  })
}

/** Like podmanTry, but rejects with podman's stderr unless it exits 0. */
export async function podman (env: Record<string, string>, args: readonly string[], timeoutMs?: number): Promise<string> {
  const r = await podmanTry(env, args, timeoutMs)
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
  return r.stdout
}
