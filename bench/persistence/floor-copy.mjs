// The content-addressed copy floor: every file of ROOT read in 4 MiB chunks, each chunk hashed with SHA-256 and
// written to OUT/<hash> through a temp file and a rename, all with synchronous calls and no store logic. What a
// snapshot to fsStore (or a restore from it) must do at least.
//   node floor-copy.mjs ROOT OUT            -> one JSON line: one thread, nothing overlapped
//   node floor-copy.mjs ROOT OUT THREADS    -> the chunks dealt round-robin to THREADS worker threads started
//                                              beforehand: `ms` excludes their start, `startMs` is the start. The
//                                              floor on every core, with a start no snapshot could avoid.
import { closeSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { isMainThread, parentPort, Worker } from 'node:worker_threads'

const CHUNK = 4 * 1024 * 1024

/** Hashes the chunk read into `buf` and writes it to out/<hash> through `tmp`, a temp name unique to the caller. */
function storeChunk(buf, got, out, tmp) {
  const hash = createHash('sha256').update(buf.subarray(0, got)).digest('hex')
  const w = openSync(join(out, tmp), 'w')
  writeSync(w, buf, 0, got)
  closeSync(w)
  renameSync(join(out, tmp), join(out, hash))
}

if (!isMainThread) {
  const buf = Buffer.allocUnsafe(CHUNK)
  parentPort.on('message', ({ jobs, out, id }) => {
    let n = 0
    for (const [file, position, length] of jobs) {
      const fd = openSync(file, 'r')
      const got = readSync(fd, buf, 0, length, position)
      closeSync(fd)
      storeChunk(buf, got, out, `tmp-${id}-${n++}`)
    }
    parentPort.postMessage(n)
  })
} else {
  const [root, out, threadsArg] = process.argv.slice(2)
  const threads = Number(threadsArg ?? 1)
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
  let startMs = 0
  let workers = []
  if (threads > 1) {
    const s = process.hrtime.bigint()
    workers = await Promise.all(Array.from({ length: threads }, () => new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url))
      w.once('online', () => resolve(w)).once('error', reject)
    })))
    startMs = Number(process.hrtime.bigint() - s) / 1e6
  }
  const t0 = process.hrtime.bigint()
  const cpu0 = process.cpuUsage()
  walk(root)
  let n = 0
  if (threads > 1) {
    const jobs = workers.map(() => [])
    for (const f of files) {
      const size = statSync(f).size
      for (let p = 0; p < size; p += CHUNK) jobs[n++ % threads].push([f, p, Math.min(CHUNK, size - p)])
    }
    await Promise.all(workers.map((w, id) => new Promise((resolve) => {
      w.once('message', resolve)
      w.postMessage({ jobs: jobs[id], out, id })
    })))
  } else {
    const buf = Buffer.allocUnsafe(CHUNK)
    for (const f of files) {
      const fd = openSync(f, 'r')
      for (let got; (got = readSync(fd, buf, 0, CHUNK, null)) > 0; ) storeChunk(buf, got, out, `tmp-${n++}`)
      closeSync(fd)
    }
  }
  const cpu = process.cpuUsage(cpu0)
  process.stdout.write(`${JSON.stringify({ ms: Number(process.hrtime.bigint() - t0) / 1e6, startMs, cpuMs: (cpu.user + cpu.system) / 1000, maxRssKiB: process.resourceUsage().maxRSS, chunks: n })}\n`)
  for (const w of workers) await w.terminate()
}
