import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { routerNodeOptions } from '../infra/memory'

/**
 * How a router pod starts, so the benchmarks measure that and not a bare
 * `node main.js`: the Node flags of the Dockerfile's CMD, the variables its
 * final stage sets with ENV, and the NODE_OPTIONS the Deployment adds for
 * the default memory limit in Pulumi.yaml. Read from those files, never
 * copied.
 */
export interface RouterRuntime {
  /** Node flags, before the script. */
  readonly flags: readonly string[]
  readonly env: Readonly<Record<string, string>>
}

export function routerRuntime (root: string): RouterRuntime {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8')
  const stages = [...dockerfile.matchAll(/^FROM /gm)]
  const finalStage = dockerfile.slice(stages[stages.length - 1]?.index ?? 0)
  const cmd = /^CMD (\[.*\])$/m.exec(finalStage)?.[1]
  if (cmd === undefined) throw new Error('Dockerfile: no exec-form CMD in the final stage')
  const argv = JSON.parse(cmd) as string[]
  const script = argv.indexOf('dist/service/main.js')
  if (argv[0] !== 'node' || script < 0) throw new Error(`Dockerfile: CMD does not start the router with node: ${cmd}`)
  const env: Record<string, string> = {}
  for (const [, name, value] of finalStage.matchAll(/^ENV ([A-Z_][A-Z0-9_]*)=(\S+)$/gm)) env[name as string] = value as string
  const project = parse(readFileSync(join(root, 'Pulumi.yaml'), 'utf8')) as { config: Record<string, { default?: string }> }
  const limit = project.config.routerMemoryLimit?.default
  if (limit === undefined) throw new Error('Pulumi.yaml: no default routerMemoryLimit')
  env.NODE_OPTIONS = routerNodeOptions(limit)
  return { flags: argv.slice(1, script), env }
}
