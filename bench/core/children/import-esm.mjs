// Child: time one package's own ESM import, after Node's once-per-process loader costs are paid (see scratch.mjs).
await import('warm-exports')
await import('warm-cjs')
const t0 = process.hrtime.bigint()
await import(process.argv[2])
const t1 = process.hrtime.bigint()
process.stdout.write(`${t1 - t0}\n`)
