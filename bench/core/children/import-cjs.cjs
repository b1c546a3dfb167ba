// Child: time one package's own require(), after Node's once-per-process loader costs are paid (see scratch.mjs).
require('warm-exports')
require('warm-cjs')
const t0 = process.hrtime.bigint()
require(process.argv[2])
const t1 = process.hrtime.bigint()
process.stdout.write(`${t1 - t0}\n`)
