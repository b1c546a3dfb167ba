import { copyFile } from 'node:fs/promises'
import { buildSync } from 'esbuild'
import { defineConfig, type Options } from 'tsup'
import { consoleClientBuildOptions } from './src/emulator/console/build-client.js'

// scf-graceful/persistence: the core loads it lazily by its public name (see src/runtime/function-runtime.ts)
const external = ['scf-graceful/persistence', 'express', '@aws-sdk/client-s3', 'ioredis', 'tencentcloud-sdk-nodejs-scf', 'cli-progress', 'playwright-core']

// the console's browser code (src/emulator/console/client/), bundled for the browser once and inlined into the
// server build as a string (src/emulator/console/page.ts serves it): the package ships no separate asset to locate
const consoleApp = (
  buildSync({ ...consoleClientBuildOptions, entryPoints: ['src/emulator/console/client/main.ts'], target: [...consoleClientBuildOptions.target] }).outputFiles as Array<{ text: string }>
)[0]?.text as string

const library: Options = {
  format: ['esm', 'cjs'],
  // shared code goes into chunks (ESM natively; CJS through esbuild's experimental splitting)
  splitting: true,
  dts: true,
  clean: false,
  target: 'node16',
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
    format: ['esm'],
    entry: { index: 'src/index.ts' },
  },
  {
    // the same core for require(): built as dist/core.cjs and loaded on first use by dist/index.cjs, a copy of the
    // hand-written src/index.cjs that holds only the export names (what require('scf-graceful') compiles on a cold
    // start; see the comment in that file and BENCHMARKS.md, core). Types: index.d.cts from src/index.ts.
    ...library,
    format: ['cjs'],
    entry: { core: 'src/index.ts' },
    dts: { entry: { index: 'src/index.ts' } },
    async onSuccess() {
      await copyFile('src/index.cjs', 'dist/index.cjs')
    },
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
    entry: { cli: 'src/cli/bin.ts', 'harness/code-runtime': 'src/harness/code-runtime.ts', 'emulator/server': 'src/emulator/server.ts' },
    format: ['esm'],
    splitting: true,
    dts: false,
    clean: false,
    target: 'node16',
    platform: 'node',
    external,
    define: { __SCFG_CONSOLE_APP__: JSON.stringify(consoleApp) },
  },
])
