// The content-addressed copy floor on one core: every file of ROOT read in 4 MiB chunks, each chunk hashed with
// SHA-256 and written to OUT/<hash> through a temp file and a rename, all with synchronous calls and no store logic,
// nothing overlapped. What a snapshot to fsStore must do at least, minus any use of the second core.
//   node floor-copy.mjs ROOT OUT   -> one JSON line
import { closeSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'

const [root, out] = process.argv.slice(2)
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const files = []
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) walk(p)
    else if (e.isFile()) files.push(p)
  }
}
const buf = Buffer.allocUnsafe(4 * 1024 * 1024)
const t0 = process.hrtime.bigint()
const cpu0 = process.cpuUsage()
walk(root)
let n = 0
for (const f of files) {
  const fd = openSync(f, 'r')
  for (let got; (got = readSync(fd, buf, 0, buf.length, null)) > 0; ) {
    const hash = createHash('sha256').update(buf.subarray(0, got)).digest('hex')
    const tmp = join(out, `tmp-${n++}`)
    const w = openSync(tmp, 'w')
    writeSync(w, buf, 0, got)
    closeSync(w)
    renameSync(tmp, join(out, hash))
  }
  closeSync(fd)
}
const cpu = process.cpuUsage(cpu0)
process.stdout.write(`${JSON.stringify({ ms: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000, maxRssKiB: process.resourceUsage().maxRSS, chunks: n })}\n`)
