import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The control-plane and image suites have their own commands: npm run test:cluster, test:image.
    exclude: [...configDefaults.exclude, 'test/cluster/**', 'test/image/**'],
    reporters: ['default', './test/summary-reporter.ts'],
    // Suites start real processes and sockets; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2
  }
})
