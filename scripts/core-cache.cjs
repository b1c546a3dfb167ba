'use strict'
// Makes the core's V8 code cache for the Node running this script: `node scripts/core-cache.cjs DIST CORE_ID`
// writes DIST/cache/core-<CORE_ID>-<V8 version>.v8 (the source it was made from, then V8's data), which
// dist/load-core.cjs reads on a cold start (see loadCore() there). The core is compiled with the very wrapper dist/load-core.cjs uses, run, and taken through what a first
// invocation does (graceful(), one call with the context SCF passes), then V8 serializes every function compiled so
// far. The build (tsup.config.ts) runs it once per SCF runtime it finds in the runtimes cache.
// Plain CommonJS for Node 16.13.
const fs = require('fs')
const path = require('path')
const vm = require('vm')

const [dist, coreId] = process.argv.slice(2)
if (!dist || !/^[0-9a-f]{16}$/.test(coreId || '')) throw new Error('usage: node scripts/core-cache.cjs DIST CORE_ID')
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { '
const WRAP_TAIL = '\n});'
const file = path.resolve(dist, 'core.cjs')
const source = fs.readFileSync(file)
const script = new vm.Script(WRAP_HEAD + source.toString('latin1') + WRAP_TAIL, { filename: file })
const m = { exports: {} }
script.runInThisContext().call(m.exports, m.exports, require, m, file, path.dirname(file))
const core = m.exports
const handler = core.graceful(async (event) => event.n, { logger: false })
const out = path.join(dist, 'cache', `core-${coreId}-${process.versions.v8}.v8`)
handler({ n: 1 }, { request_id: 'cache-1', function_name: 'cache', time_limit_in_ms: 3000, memory_limit_in_mb: 128 }).then(
  () => {
    fs.mkdirSync(path.dirname(out), { recursive: true })
    // [u32 LE source length][the source][V8's cached data]: dist/load-core.cjs uses the cache only for this very source
    const length = Buffer.alloc(4)
    length.writeUInt32LE(source.length, 0)
    fs.writeFileSync(out, Buffer.concat([length, source, script.createCachedData()]))
    core.uninstall()
    process.stdout.write(`${out}\n`)
  },
  (err) => {
    process.stderr.write(`core-cache: the first invocation failed: ${err && err.stack}\n`)
    process.exitCode = 1
  },
)
