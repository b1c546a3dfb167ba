'use strict'
// The CommonJS entry of `scf-graceful` (dist/index.cjs, copied as is by tsup.config.ts). Every SCF code deployment
// pays `require('scf-graceful')` on its cold start, and what that costs is compiling the file it loads. So this file
// is only names: each function loads the core (dist/core.cjs, the build of src/index.ts) on its first call, and the
// values (error classes, code tables) on their first read. The ESM entry needs no such thing: its import already
// costs less than the alternatives'. test/package.test.ts checks that both entries export the same names.
// Plain ES2015+ on purpose: this file is not compiled, and must run on Node 16.13.
// as the compiled entry had it, for TypeScript's CommonJS interop helpers
Object.defineProperty(exports, '__esModule', { value: true })

let core
function load() {
  return core || (core = loadCore())
}

// The core's V8 code cache, made by the build for SCF's Node.js runtimes (scripts/core-cache.cjs): the bytecode of
// the core's top level and of what a first invocation runs, so a cold start deserializes it instead of compiling
// (BENCHMARKS.md, core). The file name carries a digest of core.cjs (written here by the build) and V8's version, so
// another build's or another V8's cache is never read; V8 itself refuses one made under other V8 flags. V8 checks
// a cache only against the source's length, so the file also holds the source it was made from: unless that equals
// core.cjs byte for byte (a patched core.cjs), the core compiles as without a cache. The wrapper must stay the one
// scripts/core-cache.cjs compiles.
const CORE_ID = '__SCFG_CORE_ID__'
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { '
const WRAP_TAIL = '\n});'
// how the core was loaded: 'cache'; 'rejected' (V8 refused it); 'stale' (core.cjs is not the source it was made
// from); 'compiled' (no cache for this build and V8, or SCF_GRACEFUL_CODE_CACHE=0)
let coreLoad
function loadCore() {
  const fs = require('fs')
  const path = require('path')
  const file = path.join(__dirname, 'core.cjs')
  let blob
  try {
    // SCF_GRACEFUL_CODE_CACHE=0 turns it off
    if (process.env.SCF_GRACEFUL_CODE_CACHE === '0') throw new Error('off')
    // [u32 LE source length][the source][V8's cached data]
    blob = fs.readFileSync(path.join(__dirname, 'cache', `core-${CORE_ID}-${process.versions.v8}.v8`))
  } catch {
    coreLoad = 'compiled'
    return require('./core.cjs')
  }
  const source = fs.readFileSync(file)
  const n = blob.length >= 4 ? blob.readUInt32LE(0) : -1
  if (n !== source.length || !source.equals(blob.subarray(4, 4 + n))) {
    coreLoad = 'stale'
    return require('./core.cjs')
  }
  // what require() does, with the cache: the module goes into require.cache, so core.cjs is loaded once either way
  const Module = module.constructor
  const m = new Module(file, module)
  m.filename = file
  m.paths = module.paths
  const script = new (require('vm').Script)(WRAP_HEAD + source.toString('utf8') + WRAP_TAIL, { filename: file, cachedData: blob.subarray(4 + n) })
  coreLoad = script.cachedDataRejected ? 'rejected' : 'cache'
  require.cache[file] = m
  try {
    script.runInThisContext().call(m.exports, m.exports, (id) => m.require(id), m, file, __dirname)
  } catch (err) {
    delete require.cache[file]
    throw err
  }
  m.loaded = true
  return m.exports
}
// for tests and benchmarks: how the core was loaded (undefined until it is)
Object.defineProperty(exports, Symbol.for('scf-graceful.coreLoad'), { get: () => coreLoad })

// functions: each a named stand-in that loads the core on its first call and passes every argument on
for (const name of ['graceful', 'runJob', 'onShutdown', 'shutdown', 'uninstall', 'shutdownState', 'normalizeContext', 'contextFromHeaders', 'contextFromEnv', 'parseEnviron']) {
  exports[name] = { [name](...args) { return load()[name](...args) } }[name]
}
// classes and tables: reading one loads the core (destructuring them in a require() does so at once)
for (const name of ['ScfGracefulError', 'ShutdownError', 'errorCodes', 'jobExitCodes', 'scfStatus']) {
  Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] })
}
