import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DASHBOARD_FILE } from '../../infra/router-dashboard'

const ROOT = join(__dirname, '..', '..')
const WORK = join(ROOT, 'node_modules', '.cache', 'dashboard-schema')

interface Target { expr: string, refId: string }
interface Panel { id: number, title: string, targets: Target[] }
const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: Panel[], templating: { list: Array<{ current: unknown }> } }

/**
 * Grafana's published schema types, applied by the TypeScript compiler: the
 * JSON becomes an object literal typed as `Dashboard`, so a literal union
 * (a variable's type) and an excess or misspelt field (`gridPos`) fail.
 */
function typeCheck (files: Record<string, unknown>): string {
  mkdirSync(WORK, { recursive: true })
  for (const [name, json] of Object.entries(files)) {
    writeFileSync(join(WORK, `${name}.ts`), `import type { Dashboard } from '@grafana/schema'\nexport const dashboard: Dashboard = ${JSON.stringify(json, null, 2)}\n`)
  }
  try {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), [
      '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler',
      ...Object.keys(files).map(name => join(WORK, `${name}.ts`))
    ], { cwd: ROOT, encoding: 'utf8' })
    return ''
  } catch (err) {
    return (err as { stdout: string }).stdout
  }
}

describe('the Grafana dashboard (infra/dashboards/guild-router.json)', () => {
  it('type-checks against @grafana/schema\'s Dashboard, and the check catches a misspelt field and an empty variable', () => {
    const misspelt = structuredClone(dashboard) as unknown as { panels: Array<Record<string, unknown>> }
    misspelt.panels[0]!.gridPosition = misspelt.panels[0]!.gridPos
    delete misspelt.panels[0]!.gridPos
    const emptyVariable = structuredClone(dashboard)
    emptyVariable.templating.list[0]!.current = {}
    const out = typeCheck({ shipped: dashboard, misspelt, 'empty-variable': emptyVariable })
    const errorsIn = (name: string): string[] => out.split('\n').filter(l => l.includes(`${name}.ts(`))
    expect(errorsIn('shipped')).toEqual([])
    expect(errorsIn('misspelt').join('\n')).toMatch(/gridPosition/)
    expect(errorsIn('empty-variable').join('\n')).toMatch(/text|value/)
  }, 120_000)

  it('groups by the gateway label, never by the metric label pod that Kubernetes discovery overwrites', () => {
    const exprs = dashboard.panels.flatMap(p => p.targets.map(t => ({ title: p.title, expr: t.expr })))
    const routerExprs = exprs.filter(e => e.expr.includes('guild_router_'))
    // The router's series carry the gateway ordinal as `gateway`; `pod` on them is the router pod discovery adds.
    for (const { title, expr } of routerExprs) {
      if (/by \(pod\)/.test(expr)) expect(title, expr).toMatch(/router pod/)
    }
    expect(routerExprs.filter(e => /by \([^)]*gateway/.test(e.expr)).length).toBeGreaterThanOrEqual(6)
  })

  it('a title that promises cut connections counts them', () => {
    const errorPanel = dashboard.panels.find(p => /cut/.test(p.title))
    expect(errorPanel?.targets[0]?.expr).toMatch(/status_class=~"5xx\|cut"/)
  })
})
