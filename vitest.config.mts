import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The control-plane suite has its own command: npm run test:cluster.
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    reporters: ['default', './test/summary-reporter.ts'],
    // Suites start real processes and sockets; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2
  }
})
