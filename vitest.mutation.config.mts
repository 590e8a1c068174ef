import { defineConfig } from 'vitest/config'

/**
 * The tests npm run test:mutation runs against each mutant: the in-process
 * ones for the modules stryker.config.mjs mutates. Suites that start the
 * router or a gateway as a process run the built dist/, which a mutant of
 * the source never reaches, so they would only add time.
 */
export default defineConfig({
  test: {
    include: [
      'test/service/routing/*.test.ts',
      'test/service/proxy/*.test.ts',
      'test/service/config.test.ts',
      'test/service/config-variables.test.ts',
      'test/service/gateway/ownership-gate.test.ts',
      'test/service/gateway/handoff-barrier.test.ts',
      'test/service/gateway/guild-leases.test.ts',
      'test/service/gateway/handoff-journal.test.ts',
      'test/infra/stack-config.test.ts',
      'test/infra/specs.test.ts',
      'test/infra/program.test.ts',
      'test/infra/manifests.test.ts',
      'test/infra/memory.test.ts'
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
