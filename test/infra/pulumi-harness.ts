import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as pulumi from '@pulumi/pulumi'
import { vi } from 'vitest'
import { parse } from 'yaml'

const ROOT = join(__dirname, '..', '..')

/**
 * The config the CLI would hand the program: Pulumi.yaml's defaults, then the
 * stack file's values, then `overrides` (as `pulumi config set` would). Mocks
 * do not read Pulumi.yaml, so the tests merge it the same way.
 */
export function stackConfig (stack = 'staging', overrides: Record<string, string> = {}): Record<string, string> {
  const project = parse(readFileSync(join(ROOT, 'Pulumi.yaml'), 'utf8')) as { config: Record<string, { default?: unknown }> }
  const values: Record<string, string> = {}
  for (const [key, decl] of Object.entries(project.config)) {
    if (decl.default !== undefined) values[key] = String(decl.default)
  }
  const stackFile = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), 'utf8')) as { config: Record<string, unknown> }
  for (const [key, value] of Object.entries(stackFile.config)) {
    values[key.replace(/^guild-router:/, '')] = String(value)
  }
  return { ...values, ...overrides }
}

export interface Registered {
  readonly type: string
  readonly name: string
  readonly inputs: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface ProgramRun {
  readonly resources: Registered[]
  readonly outputs: Record<string, unknown>
  /** The one resource of `type`, failing loudly if there is not exactly one. */
  one (type: string): Registered
}

/**
 * Sets the mocks and the config first, then imports the program: the order
 * Pulumi's unit-testing guide asks for. Resolves once every registration has
 * been seen, with the stack's outputs unwrapped.
 */
export async function runProgram (config: Record<string, string>): Promise<ProgramRun> {
  const resources: Registered[] = []
  await pulumi.runtime.setMocks({
    newResource: args => {
      resources.push({ type: args.type, name: args.name, inputs: args.inputs })
      // No provider: the object's state is what was sent, as the API server would echo it.
      return { id: `${args.name}-id`, state: args.inputs }
    },
    call: args => args.inputs
  }, 'guild-router', 'staging', false)
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`guild-router:${k}`, v])))
  vi.resetModules()
  const program = await import('../../infra/index.js') as Record<string, unknown>
  const outputs: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(program)) outputs[key] = await unwrap(value)
  await waitForRegistrations()
  return {
    resources,
    outputs,
    one (type) {
      const found = resources.filter(r => r.type === type)
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`)
      return found[0] as Registered
    }
  }
}

export function unwrap<T> (value: pulumi.Input<T> | unknown): Promise<T> {
  return new Promise(resolve => pulumi.output(value as pulumi.Input<T>).apply(v => { resolve(v as T); return v }))
}

async function waitForRegistrations (): Promise<void> {
  // The SDK's own "all RPCs done" barrier, the one `pulumi` uses before exiting.
  const settings = require('@pulumi/pulumi/runtime/settings') as { waitForRPCs: () => Promise<void> }
  await settings.waitForRPCs()
}
