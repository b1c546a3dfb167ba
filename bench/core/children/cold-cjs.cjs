// Child: the cold path of a CommonJS code deployment, timed as one span: require() the package, wrap or register a
// handler the way its README says, and run one invocation of a trivial handler to its end. For scf-graceful that is
// `graceful(handler)` and one call with the context SCF's Node.js runtime passes; for the alternatives, their
// registration call and a direct call (they do nothing per invocation). Same warm-up as import-cjs.cjs.
// Prints wall ns and process CPU µs.
require('warm-exports')
require('warm-cjs')
const name = process.argv[2]
const context = { request_id: 'cold-1', time_limit_in_ms: 3000, memory_limit_in_mb: 128 }
const c0 = process.cpuUsage()
const t0 = process.hrtime.bigint()
let handler = async (event) => event.n
if (name.startsWith('scf')) handler = require(name).graceful(handler, { logger: false })
else if (name === 'close-with-grace') require(name)({ delay: 10000 }, async () => {})
else if (name === 'async-exit-hook') require(name)(() => {})
else require(name)
handler({ n: 1 }, context).then(() => {
  const t1 = process.hrtime.bigint()
  const c1 = process.cpuUsage(c0)
  process.stdout.write(`${t1 - t0} ${c1.user + c1.system}\n`)
  // the listeners the packages installed would keep nothing alive, but be explicit
  process.exit(0)
})
