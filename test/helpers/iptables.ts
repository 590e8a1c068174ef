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
 * every rule that jumps to them, and every rule that names one of `markers`
 * (a subnet, a CNI network's name) together with the chain it jumps to: a
 * chain such a rule leads to is ours even when an earlier, crashed run
 * created it before `before` was taken.
 */
export function removeAddedChains (before: Readonly<Record<Table, readonly string[]>>, prefixes: readonly string[], markers: readonly string[] = []): void {
  const ours = (chain: string): boolean => prefixes.some(p => chain.startsWith(p))
  for (const table of TABLES) {
    const doomed = new Set(chains(table).filter(c => ours(c) && !before[table].includes(c)))
    const listed = rules(table).map(rule => ({ rule, args: splitRule(rule) }))
    for (const { rule, args } of listed) {
      const target = args[args.indexOf('-j') + 1] ?? ''
      if (markers.some(m => m !== '' && rule.includes(m)) && ours(target)) doomed.add(target)
    }
    for (const { rule, args } of listed) {
      const target = args[args.indexOf('-j') + 1] ?? ''
      if (doomed.has(target) || markers.some(m => m !== '' && rule.includes(m))) iptables(table, ['-D', ...args.slice(1)])
    }
    for (const chain of doomed) iptables(table, ['-F', chain])
    for (const chain of doomed) iptables(table, ['-X', chain])
  }
}

function rules (table: Table): string[] {
  return listing(table).filter(l => l.startsWith('-A '))
}

function listing (table: Table): string[] {
  try {
    return execFileSync('iptables', ['-t', table, '-S'], { encoding: 'utf8' }).split('\n')
  } catch (err) {
    // A fresh machine has no iptables until a tier installs it, and so no chains.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
}

function iptables (table: Table, args: readonly string[]): void {
  try { execFileSync('iptables', ['-t', table, ...args], { stdio: 'ignore' }) } catch { /* already gone */ }
}

/** `iptables -S` quotes arguments with spaces (comments) in double quotes, escaping quotes inside them. */
export function splitRule (rule: string): string[] {
  const args: string[] = []
  for (const m of rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) args.push(m[1] === undefined ? m[2] ?? '' : m[1].replace(/\\(.)/g, '$1'))
  return args
}
