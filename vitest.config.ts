import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    reporters: ['default', './test/setup/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // child-process tests: two cores, keep a few files in flight
    maxWorkers: 3,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] },
  },
})
