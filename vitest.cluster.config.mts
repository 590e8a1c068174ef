import { defineConfig } from 'vitest/config'

/** `npm run test:cluster`: the program against a real control plane (test/cluster). */
export default defineConfig({
  test: {
    include: ['test/cluster/cluster.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 300_000,
    hookTimeout: 70 * 60_000,
    pool: 'forks',
    maxWorkers: 1
  }
})
