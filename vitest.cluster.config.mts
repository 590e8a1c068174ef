import { defineConfig } from 'vitest/config'

/** `npm run test:cluster`: the program through the real Pulumi engine against a real control plane (test/cluster). */
export default defineConfig({
  test: {
    include: ['test/cluster/engine.test.ts', 'test/cluster/zones.test.ts', 'test/cluster/real-node.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 900_000,
    hookTimeout: 80 * 60_000,
    pool: 'forks',
    maxWorkers: 1
  }
})
