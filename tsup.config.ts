import { readFile, writeFile } from 'node:fs/promises'
import { buildSync, transformSync } from 'esbuild'
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

/**
 * dist/core.cjs from the ESM core (dist/index.js): the same code with its one `export { ... }` turned into
 * `exports.name = name` and the lazy `import()` of an external into `require()`. Why not tsup's CommonJS build: with
 * `splitting` it runs the output through sucrase, which rewrites `??`/`?.` into helper calls and class fields into
 * `__init` methods, each one more function to compile on a cold start; without `splitting`, esbuild's `__export`
 * defines a getter per export and `__toCommonJS` copies them. Either costs a cold start ≈ 0.3–0.6 ms of CPU that
 * this file does not (BENCHMARKS.md, core). The core is one self-contained module, so the rewrite is checked to
 * be total: anything else that imports or exports fails the build.
 */
export function coreToCommonJs(esm: string): string {
  const tail = /(?<=^|[;\n}])export\s*\{([^}]*)\};?\s*$/.exec(esm)
  if (!tail) throw new Error('tsup.config: dist/index.js does not end with one export { ... } statement')
  let body = `${esm.slice(0, tail.index)}\n`
  const lines = tail[1]!.split(',').map((n) => n.trim()).filter(Boolean).map((spec) => {
    const [local, exported = local] = spec.split(/\s+as\s+/)
    return `exports.${exported} = ${local};`
  })
  body = body.replace(/\bimport\(("[^"]+")\)/g, (whole, name: string) => {
    if (!external.includes(JSON.parse(name) as string)) throw new Error(`tsup.config: the core imports ${name} lazily, which is not external`)
    return `Promise.resolve().then(() => require(${name}))`
  })
  // statements at the start of a line, a dynamic import with an argument (prose like "import()s" in a message is fine)
  if (/(?:^|[;}])\s*(import|export)\b|\bimport\((?!\))|\bimport\.meta\b/m.test(body)) throw new Error('tsup.config: the ESM core has an import or export coreToCommonJs does not convert')
  return `"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\n${body}${lines.join('\n')}\n`
}

export default defineConfig([
  {
    // the core entry on its own, so its static graph is one file: SCF cold starts pay per file loaded. Persistence
    // stays a lazily loaded chunk. The adapters below carry their own copy of the core's code, which is safe because
    // every piece of process-wide state (controller, secrets) lives under a Symbol.for key and errors are branded:
    // the test that loads the ESM and the CJS build together proves copies share one controller.
    // The same core for require() is dist/core.cjs, made from this output (coreToCommonJs) and loaded on first use
    // by dist/index.cjs, the hand-written src/index.cjs without its comments, which holds only the export names
    // (what require('scf-graceful') compiles on a cold start; see the comment in that file and BENCHMARKS.md, core).
    ...library,
    format: ['esm'],
    entry: { index: 'src/index.ts' },
    // whitespace and syntax minified, names kept (stack traces still name our functions): V8 scans every byte of
    // the file at load, and a third fewer bytes is a measurable part of an import (BENCHMARKS.md, core)
    minifyWhitespace: true,
    minifySyntax: true,
    async onSuccess() {
      await writeFile('dist/core.cjs', coreToCommonJs(await readFile('dist/index.js', 'utf8')))
      // comments out: this file is what require('scf-graceful') compiles on every cold start
      await writeFile('dist/index.cjs', transformSync(await readFile('src/index.cjs', 'utf8'), { minifyWhitespace: true, target: 'node16' }).code)
    },
  },
  {
    // the CommonJS entry's types: index.d.cts from src/index.ts
    ...library,
    format: ['cjs'],
    entry: { index: 'src/index.ts' },
    dts: { only: true },
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
