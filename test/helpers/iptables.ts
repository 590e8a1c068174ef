import { execFileSync } from 'node:child_process'

/**
 * What container networking leaves in iptables: chains of its own and the
 * rules that jump to them. Tests record the chains before they start and
 * remove only what appeared since, so a machine's own rules are never touched.
 */
export type Table = 'nat' | 'filter'
export const TABLES: readonly Table[] = ['nat', 'filter']

export function chains (table: Table): string[] {
  return listing(table).filter(l => l.startsWith('-N ')).map(l => l.slice(3))
}

export function allChains (): Record<Table, string[]> {
  return { nat: chains('nat'), filter: chains('filter') }
}

/**
 * Removes the chains named with one of `prefixes` that are not in `before`,
 * every rule that jumps to them, and every rule that still names `subnet`.
 */
export function removeAddedChains (before: Readonly<Record<Table, readonly string[]>>, prefixes: readonly string[], subnet = ''): void {
  for (const table of TABLES) {
    const added = chains(table).filter(c => prefixes.some(p => c.startsWith(p)) && !before[table].includes(c))
    for (const rule of rules(table)) {
      const args = splitRule(rule)
      const target = args[args.indexOf('-j') + 1] ?? ''
      if (added.includes(target) || (subnet !== '' && rule.includes(subnet))) iptables(table, ['-D', ...args.slice(1)])
    }
    for (const chain of added) iptables(table, ['-F', chain])
    for (const chain of added) iptables(table, ['-X', chain])
  }
}

function rules (table: Table): string[] {
  return listing(table).filter(l => l.startsWith('-A '))
}

function listing (table: Table): string[] {
  return execFileSync('iptables', ['-t', table, '-S'], { encoding: 'utf8' }).split('\n')
}

function iptables (table: Table, args: readonly string[]): void {
  try { execFileSync('iptables', ['-t', table, ...args], { stdio: 'ignore' }) } catch { /* already gone */ }
}

/** `iptables -S` quotes arguments with spaces (comments) in double quotes. */
export function splitRule (rule: string): string[] {
  const args: string[] = []
  for (const m of rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) args.push(m[1] ?? m[2] ?? '')
  return args
}
