import type { Reporter, TestModule } from 'vitest/node'

/**
 * Adds one plain closing line, `N passed, N failed, N skipped`, after vitest's
 * own summary, for tools that read a run's result from its last lines.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd (testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const count = { passed: 0, failed: unhandledErrors.length, skipped: 0 }
    for (const mod of testModules) {
      const tests = [...mod.children.allTests()]
      // A file that failed to load, or whose setup failed, reports its tests
      // as skipped: they did not run because something broke, so they count
      // as failed (the file itself when it has no tests to count).
      const broken = mod.state() === 'failed' && !tests.some(t => t.result().state === 'failed')
      if (broken && tests.length === 0) count.failed++
      for (const test of tests) {
        const state = test.result().state
        if (state === 'passed') count.passed++
        else if (state === 'failed' || broken) count.failed++
        else count.skipped++
      }
    }
    process.stdout.write(`\n${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`)
  }
}
