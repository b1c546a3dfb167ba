'use strict'
// The CommonJS entry of `scf-graceful` (dist/index.cjs, copied as is by tsup.config.ts). Every SCF code deployment
// pays `require('scf-graceful')` on its cold start, and what that costs is compiling the file it loads. So this file
// is only names: each function loads the core (dist/core.cjs, the build of src/index.ts) on its first call, and the
// values (error classes, code tables) on their first read. The ESM entry needs no such thing: its import already
// costs less than the alternatives'. test/package.test.ts checks that both entries export the same names.
// Plain ES2015+ on purpose: this file is not compiled, and must run on Node 16.13.
// as the compiled entry had it, for TypeScript's CommonJS interop helpers
Object.defineProperty(exports, '__esModule', { value: true })

// the V8 versions the build made a code cache of the core for (SCF's runtimes; see load-core.cjs), filled in by
// the build. Any other V8 requires the core at once: no loader, no file looked for.
const CACHED_V8 = ['__SCFG_CACHED_V8__']
let core
let loader
function load() {
  if (core) return core
  // the loader is its own file: require('scf-graceful') does not compile it
  if (CACHED_V8.includes(process.versions.v8)) loader = require('./load-core.cjs')
  return (core = loader ? loader.loadCore() : require('./core.cjs'))
}
// for tests and benchmarks: how the core was loaded (undefined until it is)
Object.defineProperty(exports, Symbol.for('scf-graceful.coreLoad'), { get: () => core && (loader ? loader.coreLoad() : 'compiled') })

// functions: each a named stand-in that loads the core on its first call and passes every argument on
for (const name of ['graceful', 'runJob', 'onShutdown', 'shutdown', 'uninstall', 'shutdownState', 'normalizeContext', 'contextFromHeaders', 'contextFromEnv', 'parseEnviron']) {
  exports[name] = { [name](...args) { return load()[name](...args) } }[name]
}
// classes and tables: reading one loads the core (destructuring them in a require() does so at once)
for (const name of ['ScfGracefulError', 'ShutdownError', 'errorCodes', 'jobExitCodes', 'scfStatus']) {
  Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] })
}
