import { existsSync } from 'node:fs'
import { defineConfig } from 'tsup'

// entries whose source is not there yet are left out (publint then fails the package check loudly)
const present = (entries: Record<string, string>) => Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file)))

const external = ['express', '@aws-sdk/client-s3', 'ioredis', 'better-sqlite3', 'tencentcloud-sdk-nodejs-scf', 'cli-progress', 'playwright-core']

export default defineConfig([
  {
    // the library: every public entry, ESM + CJS + types
    entry: present({
      index: 'src/index.ts',
      express: 'src/express/index.ts',
      persistence: 'src/persistence/index.ts',
      'stores/fs': 'src/stores/fs.ts',
      'stores/s3': 'src/stores/s3.ts',
      'stores/redis': 'src/stores/redis.ts',
      testing: 'src/testing/index.ts',
    }),
    format: ['esm', 'cjs'],
    // one copy of the core shared by every entry (ESM natively; CJS through esbuild's experimental splitting)
    splitting: true,
    dts: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    treeshake: false,
    // import.meta.url in the CJS build, __dirname in the ESM build
    shims: true,
    external,
  },
  {
    // processes, not libraries: the CLI and the runtime a code-mode instance runs in (ESM only, top-level await)
    // local/server: the emulator in-process for `npm run demo` and bench/emulator (built, not in the exports map)
    entry: { cli: 'src/cli/index.ts', 'local/code-runtime': 'src/local/code-runtime.ts', 'local/server': 'src/local/server.ts' },
    format: ['esm'],
    splitting: true,
    dts: false,
    clean: false,
    target: 'node20',
    platform: 'node',
    external,
  },
])
