import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { buildSync, transformSync } from 'esbuild'
import { defineConfig, type Options } from 'tsup'
import { consoleClientBuildOptions } from './src/emulator/console/build-client.js'
import { runtimeBinaryPath } from './src/runtime-cache/index.js'
import { scfRuntimes, type ScfRuntimeName } from './src/scf/runtimes.js'

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

/**
 * The core's V8 code cache for each of SCF's runtimes found in the runtimes cache (`scf-graceful runtimes install`;
 * CI installs both before it builds for the tests): dist/cache/core-<id>-<v8>.v8. Only for those: on Node 16.13 and
 * 18.15 a cache takes 1.1–1.6 ms off a cold start, on Node 20 loading it costs what compiling does (BENCHMARKS.md,
 * core). A missing runtime is said, and that build's package compiles the core on it as before.
 */
function writeCoreCaches(coreId: string): string[] {
  const cachedV8: string[] = []
  for (const runtime of Object.keys(scfRuntimes) as ScfRuntimeName[]) {
    const node = runtimeBinaryPath(runtime)
    if (!existsSync(node)) {
      console.warn(`tsup.config: no ${runtime} binary (node dist/cli.js runtimes install ${runtime}): no code cache for it in this build`)
      continue
    }
    const out = execFileSync(node, ['scripts/core-cache.cjs', 'dist', coreId], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 30_000 })
    // the file it wrote: dist/cache/core-<id>-<v8>.v8
    const v8 = new RegExp(`core-${coreId}-(.+)\\.v8$`).exec(out.trim())?.[1]
    if (!v8) throw new Error(`tsup.config: scripts/core-cache.cjs on ${runtime} printed ${JSON.stringify(out)}`)
    cachedV8.push(v8)
  }
  return cachedV8
}

export default defineConfig([
  {
    // the core entry on its own, so its static graph is one file: SCF cold starts pay per file loaded. Persistence
    // stays a lazily loaded chunk. The adapters below carry their own copy of the core's code, which is safe because
    // every piece of process-wide state (controller, secrets) lives under a Symbol.for key and errors are branded:
    // the test that loads the ESM and the CJS build together proves copies share one controller.
    // The same core for require() is dist/core.cjs, made from this output (coreToCommonJs) and loaded on first use
    // by dist/index.cjs, a copy of the hand-written src/index.cjs that holds only the export names (what
    // require('scf-graceful') compiles on a cold start; see the comment in that file and BENCHMARKS.md, core),
    // through dist/load-core.cjs (src/load-core.cjs with the core's digest filled in: V8's code cache of the core).
    ...library,
    format: ['esm'],
    entry: { index: 'src/index.ts' },
    // whitespace and syntax minified, names kept (stack traces still name our functions): V8 scans every byte of
    // the file at load, and a third fewer bytes is a measurable part of an import (BENCHMARKS.md, core)
    minifyWhitespace: true,
    minifySyntax: true,
    async onSuccess() {
      const core = coreToCommonJs(await readFile('dist/index.js', 'utf8'))
      // load-core.cjs decodes it as latin1 (a plain copy, no UTF-8 decoding on a cold start): esbuild escapes
      // non-ASCII characters, and this keeps it so
      if (/[^\x00-\x7f]/.test(core)) throw new Error('tsup.config: dist/core.cjs has a non-ASCII character')
      await writeFile('dist/core.cjs', core)
      const coreId = createHash('sha256').update(core).digest('hex').slice(0, 16)
      const loader = await readFile('src/load-core.cjs', 'utf8')
      if (!loader.includes("'__SCFG_CORE_ID__'")) throw new Error('tsup.config: src/load-core.cjs lost its CORE_ID placeholder')
      // whitespace and comments out: what require('scf-graceful') and its first call compile on every cold start
      const slim = (code: string) => transformSync(code, { minifyWhitespace: true, target: 'node16' }).code
      await writeFile('dist/load-core.cjs', slim(loader.replace("'__SCFG_CORE_ID__'", `'${coreId}'`)))
      const cachedV8 = writeCoreCaches(coreId)
      const entry = await readFile('src/index.cjs', 'utf8')
      if (!entry.includes("['__SCFG_CACHED_V8__']")) throw new Error('tsup.config: src/index.cjs lost its CACHED_V8 placeholder')
      await writeFile('dist/index.cjs', slim(entry.replace("['__SCFG_CACHED_V8__']", JSON.stringify(cachedV8))))
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
