import { defineConfig } from 'vitest/config'

/** `npm run test:image`: the image built from the Dockerfile, run the way the cluster runs it (test/image). */
export default defineConfig({
  test: {
    include: ['test/image/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 180_000,
    // The first run builds the stand-in base image and the Dockerfile (minutes on a busy 2-core machine).
    hookTimeout: 40 * 60_000,
    pool: 'forks',
    maxWorkers: 1
  }
})
