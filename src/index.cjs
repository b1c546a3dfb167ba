'use strict'
// The CommonJS entry of `scf-graceful` (dist/index.cjs is this file without its comments, by tsup.config.ts). Every
// SCF code deployment pays `require('scf-graceful')` on its cold start, and what that costs is compiling the file it
// loads. So this file is only names: each function loads the core (dist/core.cjs, the build of src/index.ts) on its
// first call, and the values (error classes, code tables) on their first read. The ESM entry needs no such thing:
// its import already costs less than the alternatives'. test/package.test.ts checks that both entries export the
// same names.
// Plain ES2015+ on purpose: the build only strips its comments, and it must run on Node 16.13.
// as the compiled entry had it, for TypeScript's CommonJS interop helpers
Object.defineProperty(exports, '__esModule', { value: true })

let core
function load() {
  return core || (core = require('./core.cjs'))
}

// functions: each a named stand-in that loads the core on its first call and passes every argument on
for (const name of ['graceful', 'runJob', 'onShutdown', 'shutdown', 'uninstall', 'shutdownState', 'normalizeContext', 'contextFromHeaders', 'contextFromEnv', 'parseEnviron']) {
  exports[name] = { [name](...args) { return load()[name](...args) } }[name]
}
// classes and tables: reading one loads the core (destructuring them in a require() does so at once)
for (const name of ['ScfGracefulError', 'ShutdownError', 'errorCodes', 'jobExitCodes', 'scfStatus']) {
  Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] })
}
