// One measured operation in its own process, so its peak RSS is its own: prints one JSON line.
//   node worker.mjs snapshot|restore ROOT STORE_DIR KEY
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

// SCFG_BENCH_DIST points at a copy of dist/ (so a rebuild in the shared tree cannot pull the floor mid-run)
const dist = process.env.SCFG_BENCH_DIST
const { createSnapshotter } = await import(dist ? pathToFileURL(join(dist, 'persistence.js')).href : 'scf-graceful/persistence')
const { fsStore } = await import(dist ? pathToFileURL(join(dist, 'stores/fs.js')).href : 'scf-graceful/stores/fs')

const [op, root, storeDir, key] = process.argv.slice(2)
const snapshotter = createSnapshotter({ store: fsStore({ dir: storeDir }), root, key, logger: false })
const started = performance.now()
const cpuBefore = process.cpuUsage()
const result = op === 'snapshot' ? await snapshotter.snapshot() : await snapshotter.restore()
const ms = performance.now() - started
// user + system CPU of the whole process (main thread, hash workers and libuv's thread pool): on a shared machine
// it moves much less than wall time
const cpu = process.cpuUsage(cpuBefore)
const cpuMs = (cpu.user + cpu.system) / 1000
let manifestBytes = 0
// an untouched tree commits nothing (result.committed false): no manifest was written
if (op === 'snapshot' && result.committed) manifestBytes = (await stat(join(storeDir, 'snapshots', ...key.split('/'), '_manifests', `${result.id}.json`))).size
process.stdout.write(`${JSON.stringify({ ms, cpuMs, maxRssKiB: process.resourceUsage().maxRSS, manifestBytes, ...result })}\n`)
