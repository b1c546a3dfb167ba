import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    express: 'src/express/index.ts',
    persistence: 'src/persistence/index.ts',
    'stores/fs': 'src/stores/fs.ts',
    'stores/s3': 'src/stores/s3.ts',
    'stores/redis': 'src/stores/redis.ts',
    testing: 'src/testing/index.ts',
    cli: 'src/cli/index.ts',
    // spawned by the harness as the child process of a code-mode instance
    'local/code-runtime': 'src/local/code-runtime.ts',
  },
  format: ['esm', 'cjs'],
  // one copy of the core shared by every entry (ESM natively; CJS through esbuild's experimental splitting)
  splitting: true,
  dts: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  sourcemap: false,
  shims: false,
  treeshake: false,
  external: ['express', '@aws-sdk/client-s3', 'ioredis', 'better-sqlite3', 'tencentcloud-sdk-nodejs-scf', 'cli-progress'],
})
