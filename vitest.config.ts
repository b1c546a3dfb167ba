import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: {
    // tests run src/ (DEVELOPERS.md, "Build and test"); the core loads persistence lazily by its public name
    // (src/runtime/function-runtime.ts), which would otherwise resolve to dist/ and mix a built copy into a source run.
    // Only this exact specifier: fixtures run in child processes, outside vitest, and get the build as users do.
    alias: [{ find: /^scf-graceful\/persistence$/, replacement: fileURLToPath(new URL('./src/persistence/index.ts', import.meta.url)) }],
  },
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
