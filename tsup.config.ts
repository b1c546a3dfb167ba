import { defineConfig, type Options } from 'tsup'

// scf-graceful/persistence: the core loads it lazily by its public name (see src/runtime/function-runtime.ts)
const external = ['scf-graceful/persistence', 'express', '@aws-sdk/client-s3', 'ioredis', 'tencentcloud-sdk-nodejs-scf', 'cli-progress', 'playwright-core']

const library: Options = {
  format: ['esm', 'cjs'],
  // shared code goes into chunks (ESM natively; CJS through esbuild's experimental splitting)
  splitting: true,
  dts: true,
  clean: false,
  target: 'node20',
  platform: 'node',
  treeshake: false,
  // import.meta.url in the CJS build, __dirname in the ESM build
  shims: true,
  external,
}

export default defineConfig([
  {
    // the core entry on its own, so its static graph is one file: SCF cold starts pay per file loaded. Persistence
    // stays a lazily loaded chunk. The adapters below carry their own copy of the core's code, which is safe because
    // every piece of process-wide state (controller, secrets) lives under a Symbol.for key and errors are branded:
    // the test that loads the ESM and the CJS build together proves copies share one controller.
    ...library,
    entry: { index: 'src/index.ts' },
  },
  {
    // the adapters and tools: one split build, so they share one copy among themselves
    ...library,
    entry: {
      express: 'src/express/index.ts',
      persistence: 'src/persistence/index.ts',
      'stores/fs': 'src/stores/fs.ts',
      'stores/s3': 'src/stores/s3.ts',
      'stores/redis': 'src/stores/redis.ts',
      testing: 'src/testing/index.ts',
    },
  },
  {
    // processes, not libraries: the CLI and the runtime a code-mode instance runs in (ESM only, top-level await)
    // emulator/server: the emulator in-process for `npm run demo` and bench/emulator (built, not in the exports map)
    entry: { cli: 'src/cli/index.ts', 'harness/code-runtime': 'src/harness/code-runtime.ts', 'emulator/server': 'src/emulator/server.ts' },
    format: ['esm'],
    splitting: true,
    dts: false,
    clean: false,
    target: 'node20',
    platform: 'node',
    external,
  },
])
