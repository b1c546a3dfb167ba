'use strict'
// How dist/index.cjs loads the core (dist/core.cjs) on the first call of one of its names, copied to dist/ by the
// build with CORE_ID filled in. Its own file, so that require('scf-graceful') does not compile it.
// Plain ES2015+ on purpose: this file is not compiled, and must run on Node 16.13.
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
  const script = new (require('vm').Script)(WRAP_HEAD + source.toString('latin1') + WRAP_TAIL, { filename: file, cachedData: blob.subarray(4 + n) })
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
exports.loadCore = loadCore
exports.coreLoad = () => coreLoad
