// Child: time one package's own require(), after Node's once-per-process loader costs are paid (see scratch.mjs).
// Prints wall ns and process CPU µs (user + system, all threads: the CPU figure ignores time spent descheduled).
require('warm-exports')
require('warm-cjs')
const c0 = process.cpuUsage()
const t0 = process.hrtime.bigint()
require(process.argv[2])
const t1 = process.hrtime.bigint()
const c1 = process.cpuUsage(c0)
process.stdout.write(`${t1 - t0} ${c1.user + c1.system}\n`)
