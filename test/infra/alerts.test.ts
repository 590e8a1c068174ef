import { execFile, execFileSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { RULES_FILE } from '../../infra/prometheus-operator'
import { DASHBOARD_FILE } from '../../infra/router-dashboard'

const ROOT = join(__dirname, '..', '..')
const TESTS_FILE = RULES_FILE.replace(/\.yaml$/, '.test.yaml')
const run = promisify(execFile)

interface Rules { groups: Array<{ name: string, rules: Array<{ alert: string, expr: string }> }> }
interface RuleTests { tests: Array<{ alert_rule_test: Array<{ alertname: string, exp_alerts: unknown[] }> }> }

let promtool: string
let dir: string

beforeAll(() => {
  // Prometheus' own promtool, built from its Go module (scripts/prometheus/build.sh).
  // Cold, this waits for the build that .ci/run starts in the background at its beginning.
  const out = execFileSync('bash', [join(ROOT, 'scripts', 'prometheus', 'build.sh'), 'promtool'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  promtool = join(out.trim(), 'promtool')
  dir = mkdtempSync(join(tmpdir(), 'guild-router-alerts-'))
}, 40 * 60_000)

afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

/** `promtool test rules` on the repository's tests against `rules` (the file's text by default). */
async function testRules (rules = readFileSync(RULES_FILE, 'utf8')): Promise<{ ok: boolean, out: string }> {
  writeFileSync(join(dir, 'guild-router.rules.yaml'), rules)
  copyFileSync(TESTS_FILE, join(dir, 'guild-router.rules.test.yaml'))
  try {
    const { stdout, stderr } = await run(promtool, ['test', 'rules', 'guild-router.rules.test.yaml'], { cwd: dir })
    return { ok: true, out: stdout + stderr }
  } catch (err) {
    const e = err as { stdout: string, stderr: string }
    return { ok: false, out: e.stdout + e.stderr }
  }
}

const rules = parse(readFileSync(RULES_FILE, 'utf8')) as Rules
const alerts = rules.groups.flatMap(g => g.rules.map(r => r.alert))

describe('the dashboard\'s queries', () => {
  it('each parses as PromQL once Grafana has put in $__rate_interval (promtool, through a recording rule per query)', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: Array<{ id: number, targets: Array<{ expr: string }> }> }
    const exprs = dashboard.panels.flatMap(p => p.targets.map(t => t.expr.replaceAll('$__rate_interval', '1m')))
    const file = join(dir, 'dashboard.rules.yaml')
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }] }))
    const { stdout } = await run(promtool, ['check', 'rules', file])
    expect(stdout).toContain(`SUCCESS: ${exprs.length} rules found`)
    // And the check can fail: a query with a stray bracket is refused.
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: [{ record: 'dashboard:broken', expr: 'sum(rate(guild_router_requests_total[1m])' }] }] }))
    await expect(run(promtool, ['check', 'rules', file])).rejects.toThrow()
  })
})

describe('the alert rules (infra/alerts/guild-router.rules.yaml)', () => {
  it('parse, with promtool check rules', async () => {
    const { stdout } = await run(promtool, ['check', 'rules', RULES_FILE])
    expect(stdout).toContain(`SUCCESS: ${alerts.length} rules found`)
  })

  it('pass their promtool unit tests', async () => {
    const result = await testRules()
    expect(result.out).toContain('SUCCESS')
    expect(result.ok).toBe(true)
  })

  it('every alert has a test where it fires and one where it does not', () => {
    const cases = (parse(readFileSync(TESTS_FILE, 'utf8')) as RuleTests).tests.flatMap(t => t.alert_rule_test)
    for (const alert of alerts) {
      const mine = cases.filter(c => c.alertname === alert)
      expect(mine.some(c => c.exp_alerts.length > 0), `${alert} fires somewhere`).toBe(true)
      expect(mine.some(c => c.exp_alerts.length === 0), `${alert} stays quiet somewhere`).toBe(true)
    }
  })

  // The tests can fail: an alert that never fires, or always fires, breaks them.
  it.each(alerts.flatMap(alert => [[alert, 'never fires', 'vector(0) > 1'], [alert, 'always fires', 'vector(1)']]))('%s: the tests fail when it %s', async (alert, _how, expr) => {
    const broken = structuredClone(rules)
    for (const group of broken.groups) for (const rule of group.rules) if (rule.alert === alert) rule.expr = expr
    const result = await testRules(stringify(broken))
    expect(result.ok).toBe(false)
    expect(result.out).toContain(`alertname: ${alert}`)
  })
})
