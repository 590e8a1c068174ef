import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { tied } from '../../dev/tied-spawn'

/**
 * The real Pulumi CLI, driven the way an operator drives it, with everything
 * it writes kept in a directory of the test's own: a local state backend, a
 * passphrase, and a PULUMI_HOME holding the Kubernetes provider plugin.
 *
 * `pulumi stack init` writes the stack's encryption salt into the stack's
 * config file, so the CLI runs in a scratch project: copies of Pulumi.yaml and
 * Pulumi.staging.yaml and links to everything else in the repository
 * (package.json, infra/, dist/, node_modules/). The program and its package
 * manifest are the repository's own, byte for byte, and the working tree is
 * never touched.
 */
export interface Engine {
  /** The scratch project directory the CLI runs in. */
  readonly project: string
  /** Runs `pulumi <args>` for the stack; resolves with what it printed, whatever its exit code. */
  pulumi (args: string[], timeoutMs?: number): Promise<CliResult>
}

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface EngineOptions {
  /** The directory with `pulumi`, `pulumi-language-nodejs` and `pulumi-resource-kubernetes`. */
  readonly bin: string
  readonly root: string
  readonly dir: string
  readonly kubeconfig: string
  readonly stack: string
  /** The provider's version, as the built plugin is installed under it. */
  readonly kubernetesVersion: string
}

export async function startEngine (options: EngineOptions): Promise<Engine> {
  const project = join(options.dir, 'project')
  const home = join(options.dir, 'pulumi-home')
  const state = join(options.dir, 'state')
  for (const d of [project, home, state]) mkdirSync(d, { recursive: true })
  for (const entry of readdirSync(options.root)) {
    if (entry === '.git') continue
    if (entry === 'Pulumi.yaml' || entry.startsWith('Pulumi.')) copyFileSync(join(options.root, entry), join(project, entry))
    else symlinkSync(join(options.root, entry), join(project, entry))
  }

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // The built CLI and language host first; `node` stays the one npm put on PATH (Node 24).
    PATH: `${options.bin}:${process.env.PATH ?? ''}`,
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${state}`,
    PULUMI_CONFIG_PASSPHRASE: randomBytes(16).toString('hex'),
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    PULUMI_SKIP_CONFIRMATIONS: 'true',
    KUBECONFIG: options.kubeconfig
  }
  const run = async (args: string[], timeoutMs = 15 * 60_000): Promise<CliResult> =>
    await new Promise((resolve, reject) => {
      const child = spawn(...tied(join(options.bin, 'pulumi'), [...args, '--non-interactive']), { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      child.on('error', reject)
      child.on('close', code => {
        clearTimeout(timer)
        resolve({ code, stdout, stderr })
      })
    })
  const must = async (args: string[]): Promise<void> => {
    const r = await run(args)
    if (r.code !== 0) throw new Error(`pulumi ${args.join(' ')} exited ${String(r.code)}: ${r.stderr || r.stdout}`)
  }

  // Installed under its own version, which package.json pins @pulumi/kubernetes to.
  await must(['plugin', 'install', 'resource', 'kubernetes', `v${options.kubernetesVersion}`, '--file', join(options.bin, 'pulumi-resource-kubernetes')])
  await must(['stack', 'init', options.stack])
  return { project, pulumi: async (args, timeoutMs) => await run([...args, '--stack', options.stack], timeoutMs) }
}

/** Builds (or reuses) a toolchain with one of the scripts in scripts/cluster; its progress goes to stderr. */
export async function buildToolchain (script: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
    child.on('error', reject)
    child.on('close', code => {
      const dir = out.trim().split('\n').pop()
      if (code === 0 && dir !== undefined && dir !== '') resolve(dir)
      else reject(new Error(`${script} exited ${String(code)}`))
    })
  })
}
