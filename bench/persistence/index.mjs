// Persistence benchmark: one 512 MiB file + 1,000 x 512 KiB files (1 GiB), fsStore on the same disk.
// Compares our snapshot and restore with `cp -a` and `tar -cf` of the same tree. Each of our operations runs in
// its own child process (peak RSS = that process's maxRSS); cp and tar run under /usr/bin/time -f %M.
// Three rounds, operations alternating inside each round; medians reported. Page cache is warm (not dropped).
// Env: BENCH_PERSIST_SMALL=1 for a 10x smaller tree (a quick check).
import { execFileSync, spawnSync } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { appendFile, mkdir, open, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const work = join(here, '../.work/persistence')
const small = process.env.BENCH_PERSIST_SMALL === '1'
const BIG = (small ? 51 : 512) * 1024 * 1024
const COUNT = small ? 100 : 1000
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

function ours(op, root, storeDir, key) {
  const r = spawnSync(process.execPath, [join(here, 'worker.mjs'), op, root, storeDir, key], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`worker ${op} failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

function timed(cmd, args) {
  const started = performance.now()
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], { encoding: 'utf8' })
  const ms = performance.now() - started
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`)
  const [rss, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number)
  return { ms, cpuMs: (user + sys) * 1000, maxRssKiB: rss }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`)
const fmtMiB = (kib) => `${(kib / 1024).toFixed(0)} MiB`

const started = Date.now()
await rm(work, { recursive: true, force: true })
const tree = join(work, 'tree')
console.error(`bench/persistence: generating ${(BIG + COUNT * SMALL) / MiB} MiB tree...`)
await makeTree(tree)

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
  await rm(storeDir, { recursive: true, force: true })
}
await rm(work, { recursive: true, force: true })
loads.push(readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '))

const rows = Object.entries(samples).map(([name, s]) => {
  const uploaded = s[0].uploadedBytes === undefined ? '' : `${(median(s.map((x) => x.uploadedBytes + (x.manifestBytes ?? 0))) / MiB).toFixed(2)} MiB`
  return { name, ms: median(s.map((x) => x.ms)), cpu: median(s.map((x) => x.cpuMs)), rss: median(s.map((x) => x.maxRssKiB)), uploaded }
})
const get = (name) => rows.find((r) => r.name === name)
console.log(`\n### persistence (${(BIG + COUNT * SMALL) / MiB} MiB tree: 1 x ${BIG / MiB} MiB + ${COUNT} x 512 KiB; median of ${ROUNDS})\n`)
console.log(`load average (1/5/15 min) at start: ${loads[0]}, at end: ${loads[1]}\n`)
console.log('| operation | wall time | CPU (user+sys) | peak RSS | written to store (chunks + manifest) |')
console.log('|---|---|---|---|---|')
for (const r of rows) console.log(`| ${r.name} | ${fmtMs(r.ms)} | ${fmtMs(r.cpu)} | ${fmtMiB(r.rss)} | ${r.uploaded} |`)
const ratio = (a, b, k = 'ms') => (get(a)[k] / get(b)[k]).toFixed(2)
console.log(`\nfirst snapshot / cp -a = ${ratio('first snapshot: ours', 'first snapshot: cp -a')} (goal <= 1.5) · ` +
  `unchanged / first = ${ratio('unchanged re-snapshot: ours', 'first snapshot: ours')} (goal <= 0.02) · ` +
  `restore / cp -a = ${ratio('restore: ours', 'restore: cp -a')} (goal <= 1.5) · CPU ratios: first snapshot / cp -a ` +
  `${ratio('first snapshot: ours', 'first snapshot: cp -a', 'cpu')}, restore / cp -a ${ratio('restore: ours', 'restore: cp -a', 'cpu')} · total ${((Date.now() - started) / 1000).toFixed(0)} s`)
