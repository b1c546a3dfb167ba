// Persistence benchmark: one 128 MiB file + 256 x 512 KiB files (256 MiB, issue 15's tree), fsStore on the same disk.
// Compares our snapshot and restore with `cp -a` and `tar -cf` of the same tree, beside the floors: SHA-256 of the
// tree's bytes split over two worker threads, the content-addressed copy (read, hash, write per chunk) on one thread
// and on two, and (for the unchanged re-snapshot of a 10,000-file tree) a bare readdir + lstat walk in a fresh process. Each of our operations runs in its own child process (peak RSS = that
// process's maxRSS); cp and tar run under /usr/bin/time -f %M.
// Three rounds, operations alternating inside each round; medians reported. Page cache is warm (not dropped); dirty
// pages are written back (`sync`, not timed) before each measured operation.
// Env: BENCH_PERSIST_SMALL=1 for a 10x smaller tree (a quick check); BENCH_PERSIST_LARGE=1 for the older 1 GiB tree.
import { execFileSync, spawnSync } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { appendFile, mkdir, open, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const work = join(here, '../.work/persistence')
const small = process.env.BENCH_PERSIST_SMALL === '1'
const large = process.env.BENCH_PERSIST_LARGE === '1'
const BIG = (small ? 13 : large ? 512 : 128) * 1024 * 1024
const COUNT = small ? 26 : large ? 1000 : 256
const MANY = 10_000
const SMALL = 512 * 1024
const ROUNDS = Number(process.env.BENCH_PERSIST_ROUNDS) || 3
const MiB = 1024 * 1024

if (!existsSync(join(process.env.SCFG_BENCH_DIST ?? join(here, '../../dist'), 'persistence.js'))) {
  console.error('bench/persistence: run `npm run build` first')
  process.exit(1)
}

async function writeRandom(path, size) {
  const fh = await open(path, 'w')
  const buf = Buffer.allocUnsafe(Math.min(size, 8 * MiB))
  for (let done = 0; done < size; ) {
    const n = Math.min(buf.length, size - done)
    randomFillSync(buf, 0, n)
    await fh.write(buf, 0, n)
    done += n
  }
  await fh.close()
}

async function makeTree(root) {
  await mkdir(join(root, 'small'), { recursive: true })
  await writeRandom(join(root, 'big.bin'), BIG)
  for (let i = 0; i < COUNT; i++) await writeRandom(join(root, 'small', `f${String(i).padStart(4, '0')}.bin`), SMALL)
}

/**
 * Before every measured operation: the page cache's dirty pages (the previous contender's writes, the files just
 * removed) go to disk first, so their writeback does not land on whoever runs next. Without it `cp -a` of the same
 * tree moved between 80 and 300 ms from round to round on the 2-core VM.
 */
function quiesce() {
  spawnSync('sync')
}

function ours(op, root, storeDir, key) {
  quiesce()
  const r = spawnSync(process.execPath, [join(here, 'worker.mjs'), op, root, storeDir, key], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`worker ${op} failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

function timed(cmd, args) {
  quiesce()
  const started = performance.now()
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], { encoding: 'utf8' })
  const ms = performance.now() - started
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`)
  const [rss, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number)
  return { ms, cpuMs: (user + sys) * 1000, maxRssKiB: rss }
}

/** SHA-256 of `bytes` split over two worker threads (4 MiB buffers): the hashing floor on both cores. */
function shaFloor(bytes) {
  quiesce()
  const src = `const { parentPort, workerData } = require('node:worker_threads'); const { createHash } = require('node:crypto');
    const buf = Buffer.alloc(4 * 1024 * 1024, 7); let left = workerData; const t = process.hrtime.bigint();
    while (left > 0) { const n = Math.min(left, buf.length); createHash('sha256').update(buf.subarray(0, n)).digest(); left -= n }
    parentPort.postMessage(Number(process.hrtime.bigint() - t) / 1e6)`
  const script = `const { Worker } = require('node:worker_threads'); const t = performance.now();
    Promise.all([0, 1].map(() => new Promise((r) => new Worker(${JSON.stringify(src)}, { eval: true, workerData: ${Math.ceil(bytes / 2)} }).on('message', r))))
      .then(() => console.log(JSON.stringify({ ms: performance.now() - t, cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000, maxRssKiB: process.resourceUsage().maxRSS })))`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`sha floor failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim())
}

/** A bare walk of `root` (readdir + lstatSync, as the snapshot's walk does) in a fresh process: the re-snapshot floor. */
function lstatFloor(root) {
  quiesce()
  const script = `const { readdirSync, lstatSync } = require('node:fs'); const { join } = require('node:path'); const t = performance.now(); let n = 0;
    const walk = (d) => { for (const name of readdirSync(d)) { const p = join(d, name); const st = lstatSync(p); n++; if (st.isDirectory()) walk(p) } };
    walk(${JSON.stringify(root)}); console.log(JSON.stringify({ ms: performance.now() - t, cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000, maxRssKiB: process.resourceUsage().maxRSS, entries: n }))`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`lstat floor failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim())
}

/**
 * read -> SHA-256 -> write of every chunk with synchronous calls (floor-copy.mjs), in a fresh process: on one thread,
 * or dealt to `threads` worker threads started beforehand (their start reported apart, as `startMs`).
 */
function copyHashFloor(root, out, threads = 1) {
  quiesce()
  const r = spawnSync(process.execPath, [join(here, 'floor-copy.mjs'), root, out, String(threads)], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`copy floor failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim())
}

async function makeManyFiles(root) {
  for (let d = 0; d < MANY / 100; d++) {
    await mkdir(join(root, `d${d}`), { recursive: true })
    for (let i = 0; i < 100; i++) await writeFile(join(root, `d${d}`, `f${i}`), `file ${d}/${i}\n`)
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`)
const fmtMiB = (kib) => `${(kib / 1024).toFixed(0)} MiB`

const started = Date.now()
await rm(work, { recursive: true, force: true })
const tree = join(work, 'tree')
console.error(`bench/persistence: generating ${(BIG + COUNT * SMALL) / MiB} MiB tree...`)
await makeTree(tree)
const many = join(work, 'many')
await makeManyFiles(many)

const loads = [readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')]
const samples = {}
const add = (name, sample) => (samples[name] ??= []).push(sample)
for (let round = 0; round < ROUNDS; round++) {
  const storeDir = join(work, `store-${round}`)
  const key = `bench/r${round}`
  // a fresh tree state per round: the state cache is removed so the first snapshot really reads everything
  await rm(join(tree, '.scf-graceful'), { recursive: true, force: true })
  const order = round % 2 === 0 ? ['ours', 'cp', 'tar'] : ['tar', 'cp', 'ours']
  for (const who of order) {
    if (who === 'ours') add('first snapshot: ours', ours('snapshot', tree, storeDir, key))
    if (who === 'cp') {
      add('first snapshot: cp -a', timed('cp', ['-a', tree, join(work, 'cp-copy')]))
      await rm(join(work, 'cp-copy'), { recursive: true, force: true })
    }
    if (who === 'tar') {
      add('first snapshot: tar -cf', timed('tar', ['-cf', join(work, 'tree.tar'), '-C', tree, '.']))
      await rm(join(work, 'tree.tar'), { force: true })
    }
  }
  add('unchanged re-snapshot: ours', ours('snapshot', tree, storeDir, key))
  await appendFile(join(tree, 'big.bin'), randomFillSync(Buffer.allocUnsafe(MiB)))
  add('1 MiB appended, re-snapshot: ours', ours('snapshot', tree, storeDir, key))
  const restoreOrder = round % 2 === 0 ? ['ours', 'cp'] : ['cp', 'ours']
  for (const who of restoreOrder) {
    const target = join(work, 'restore-target')
    if (who === 'ours') add('restore: ours', ours('restore', target, storeDir, key))
    else add('restore: cp -a', timed('cp', ['-a', tree, target]))
    await rm(target, { recursive: true, force: true })
  }
  add('floor: SHA-256 of the tree on 2 threads', shaFloor(BIG + COUNT * SMALL))
  add('floor: read, SHA-256, write per chunk on 1 thread', copyHashFloor(tree, join(work, 'floor-copy')))
  await rm(join(work, 'floor-copy'), { recursive: true, force: true })
  add('floor: the same on 2 threads started beforehand', copyHashFloor(tree, join(work, 'floor-copy'), 2))
  await rm(join(work, 'floor-copy'), { recursive: true, force: true })
  // 10,000 files: a first snapshot (not shown), then the unchanged re-snapshot beside a bare lstat walk
  ours('snapshot', many, storeDir, `many/r${round}`)
  const manyOrder = round % 2 === 0 ? ['ours', 'floor'] : ['floor', 'ours']
  for (const who of manyOrder) {
    if (who === 'ours') add('10k files, unchanged re-snapshot: ours', ours('snapshot', many, storeDir, `many/r${round}`))
    else add('10k files: bare lstat walk (floor)', lstatFloor(many))
  }
  await rm(join(many, '.scf-graceful'), { recursive: true, force: true })
  await rm(storeDir, { recursive: true, force: true })
}
await rm(work, { recursive: true, force: true })
loads.push(readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '))

const rows = Object.entries(samples).map(([name, s]) => {
  const uploaded = s[0].uploadedBytes === undefined ? '' : `${(median(s.map((x) => x.uploadedBytes + (x.manifestBytes ?? 0))) / MiB).toFixed(2)} MiB`
  const start = s[0].startMs ? ` (+ ${fmtMs(median(s.map((x) => x.startMs)))} to start the threads)` : ''
  return { name, ms: median(s.map((x) => x.ms)), cpu: median(s.map((x) => x.cpuMs)), rss: median(s.map((x) => x.maxRssKiB)), uploaded, start }
})
const get = (name) => rows.find((r) => r.name === name)
console.log(`\n### persistence (${(BIG + COUNT * SMALL) / MiB} MiB tree: 1 x ${BIG / MiB} MiB + ${COUNT} x 512 KiB; median of ${ROUNDS})\n`)
console.log(`load average (1/5/15 min) at start: ${loads[0]}, at end: ${loads[1]}\n`)
console.log('| operation | wall time | CPU (user+sys) | peak RSS | written to store (chunks + manifest) |')
console.log('|---|---|---|---|---|')
for (const r of rows) console.log(`| ${r.name} | ${fmtMs(r.ms)}${r.start} | ${fmtMs(r.cpu)} | ${fmtMiB(r.rss)} | ${r.uploaded} |`)
const ratio = (a, b, k = 'ms') => (get(a)[k] / get(b)[k]).toFixed(2)
console.log(`\nfirst snapshot / cp -a = ${ratio('first snapshot: ours', 'first snapshot: cp -a')} (goal <= 1.5) · ` +
  `unchanged / first = ${ratio('unchanged re-snapshot: ours', 'first snapshot: ours')} (goal <= 0.02) · ` +
  `restore / cp -a = ${ratio('restore: ours', 'restore: cp -a')} (goal <= 1.5) · CPU ratios: first snapshot / cp -a ` +
  `${ratio('first snapshot: ours', 'first snapshot: cp -a', 'cpu')}, restore / cp -a ${ratio('restore: ours', 'restore: cp -a', 'cpu')} · ` +
  `10k unchanged re-snapshot / bare lstat walk = ${ratio('10k files, unchanged re-snapshot: ours', '10k files: bare lstat walk (floor)')} (goal <= 2) · ` +
  `SHA-256 floor / cp -a = ${ratio('floor: SHA-256 of the tree on 2 threads', 'first snapshot: cp -a')} · ` +
  `first snapshot / 1-thread copy floor = ${ratio('first snapshot: ours', 'floor: read, SHA-256, write per chunk on 1 thread')} · ` +
  `1-thread copy floor / cp -a = ${ratio('floor: read, SHA-256, write per chunk on 1 thread', 'first snapshot: cp -a')} · ` +
  `2-thread copy floor (without its start) / cp -a = ${ratio('floor: the same on 2 threads started beforehand', 'first snapshot: cp -a')} · total ${((Date.now() - started) / 1000).toFixed(0)} s`)
