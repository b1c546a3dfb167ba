// Stores benchmark (issue 4): the 512 MiB + 1,000 x 512 KiB tree snapshotted to Ceph radosgw (s3Store) and to Redis
// (redisStore), against a bare loop of the same client writing the same bytes in the same 4 MiB pieces at the same
// concurrency; then the unchanged re-snapshot. Starts its own servers with test/setup/servers.ts (compiled by esbuild
// on the fly), runs against the built dist/, prints a markdown table.
// Knobs: BENCH_STORES_BIG_MIB (512), BENCH_STORES_FILES (1000), BENCH_STORES_FILE_KIB (512), BENCH_STORES_CONCURRENCY (8),
// BENCH_STORES_ONLY (s3|redis), BENCH_STORES_RESTORE=1 (also time a restore).
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { Redis } from 'ioredis'
import { build } from 'esbuild'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises'
import { Agent } from 'node:http'
import { cpus, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const repo = join(here, '..', '..')
const log = (line) => process.stderr.write(`${line}\n`)
const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback)
const BIG = num('BENCH_STORES_BIG_MIB', 512) * 1024 * 1024
const FILES = num('BENCH_STORES_FILES', 1000)
const FILE = num('BENCH_STORES_FILE_KIB', 512) * 1024
const CONCURRENCY = num('BENCH_STORES_CONCURRENCY', 8)
const ONLY = process.env.BENCH_STORES_ONLY
// restore is the persistence benchmark's subject; here it only costs time
const RESTORE = process.env.BENCH_STORES_RESTORE === '1'
const PIECE = 4 * 1024 * 1024
const started = Date.now()

const { createSnapshotter } = await import(join(repo, 'dist/persistence.js'))
const { s3Store } = await import(join(repo, 'dist/stores/s3.js'))
const { redisStore } = await import(join(repo, 'dist/stores/redis.js'))
const compiled = await build({ entryPoints: [join(repo, 'test/setup/servers.ts')], bundle: true, packages: 'external', format: 'esm', platform: 'node', write: false })
const servers = await import(`data:text/javascript;base64,${Buffer.from(compiled.outputFiles[0].text).toString('base64')}`)

/** The tree: one big file and many medium ones, random bytes (nothing deduplicates). */
async function makeTree() {
  const root = await mkdtemp(join(tmpdir(), 'scfg-bench-tree-'))
  await mkdir(join(root, 'files'), { recursive: true })
  const big = await open(join(root, 'big.bin'), 'w')
  for (let written = 0; written < BIG; written += PIECE) await big.write(randomBytes(Math.min(PIECE, BIG - written)))
  await big.close()
  for (let i = 0; i < FILES; i++) await writeFile(join(root, 'files', `f-${String(i).padStart(4, '0')}.bin`), randomBytes(FILE))
  return root
}

/** Every piece the bare loop writes: the same files cut at the same 4 MiB boundaries as the engine's chunks. */
function pieces(root) {
  const out = []
  for (let offset = 0; offset < BIG; offset += PIECE) out.push({ path: join(root, 'big.bin'), offset, length: Math.min(PIECE, BIG - offset) })
  for (let i = 0; i < FILES; i++) out.push({ path: join(root, 'files', `f-${String(i).padStart(4, '0')}.bin`), offset: 0, length: FILE })
  return out
}

async function readPiece({ path, offset, length }) {
  if (offset === 0 && length === FILE) return readFile(path)
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(length)
    await fh.read(buf, 0, length, offset)
    return buf
  } finally {
    await fh.close()
  }
}

/** The baseline: read each piece and write it with the raw client, `CONCURRENCY` at once. */
async function bareLoop(root, write) {
  const items = pieces(root)
  let next = 0
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) {
      const i = next++
      await write(`bare/${i}`, await readPiece(items[i]))
    }
  }))
  return performance.now() - t0
}

async function timed(fn) {
  const t0 = performance.now()
  const result = await fn()
  return { ms: performance.now() - t0, result }
}

const total = BIG + FILES * FILE
const mbps = (ms) => (total / (1024 * 1024) / (ms / 1000)).toFixed(0)
const rows = []

async function runTarget(name, { makeStore, bareWrite, reset }) {
  // warm up (connections, the server's first writes) so neither side pays for it
  await reset()
  const warm = randomBytes(PIECE)
  await Promise.all(Array.from({ length: 4 * CONCURRENCY }, (_, i) => bareWrite(`warm/${i}`, warm)))
  log(`bench/stores: ${name}: bare loop`)
  await reset()
  const bareMs = await bareLoop(root, bareWrite)
  await reset()
  const store = makeStore()
  log(`bench/stores: ${name}: snapshot`)
  const snapshotter = createSnapshotter({ store, root, key: 'bench/tree', concurrency: CONCURRENCY, logger: false })
  const first = await timed(() => snapshotter.snapshot())
  log(`bench/stores: ${name}: unchanged re-snapshot`)
  const again = await timed(() => snapshotter.snapshot())
  let restored
  if (RESTORE) {
    const restoreDir = await mkdtemp(join(tmpdir(), 'scfg-bench-restore-'))
    log(`bench/stores: ${name}: restore`)
    restored = await timed(() => createSnapshotter({ store, root: restoreDir, key: 'bench/tree', concurrency: CONCURRENCY, logger: false }).restore())
    await rm(restoreDir, { recursive: true, force: true })
  }
  log(`bench/stores: ${name}: bare ${(bareMs / 1000).toFixed(1)} s, snapshot ${(first.ms / 1000).toFixed(1)} s, re-snapshot ${(again.ms / 1000).toFixed(2)} s`)
  const ratio = bareMs / first.ms
  rows.push([name, 'bare loop (same client, same pieces, same concurrency)', (bareMs / 1000).toFixed(2), mbps(bareMs), '1.00', ''])
  rows.push([name, 'snapshot (first)', (first.ms / 1000).toFixed(2), mbps(first.ms), ratio.toFixed(3), ratio >= 0.8 ? 'met' : '**not met**'])
  rows.push([name, `re-snapshot, unchanged (${again.result.uploadedChunks} chunks sent)`, (again.ms / 1000).toFixed(3), '', '', ''])
  if (restored) rows.push([name, 'restore (verify + write)', (restored.ms / 1000).toFixed(2), mbps(restored.ms), '', ''])
  await reset()
}

log(`bench/stores: writing the tree (${BIG / 1024 / 1024} MiB + ${FILES} x ${FILE / 1024} KiB) while redis-server and Ceph radosgw start`)
const memstore = Math.max(4 * 1024 ** 3, total * 3)
const starting = [
  ONLY === 's3' ? undefined : servers.startRedis(),
  ONLY === 'redis' ? undefined : servers.startCeph({ memstoreBytes: memstore, script: join(repo, 'test/setup/ceph.sh') }),
]
const stops = []
for (const p of starting) p?.then((s) => stops.push(() => s.stop()), () => {})
let root
try {
  root = await makeTree()
  const [redisServer, ceph] = await Promise.all(starting)
  log(`bench/stores: ready after ${((Date.now() - started) / 1000).toFixed(0)} s`)

  if (ceph) {
    const client = new S3Client({
      endpoint: ceph.endpoint, region: ceph.region, forcePathStyle: true,
      credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) },
    })
    let n = 0
    let bucket
    const reset = async () => {
      // a fresh bucket each time: deleting a GiB of objects would time the server's GC, not us
      bucket = `bench-${++n}`
      await client.send(new CreateBucketCommand({ Bucket: bucket }))
    }
    await runTarget('radosgw (s3Store)', {
      // the same client for both
      makeStore: () => s3Store({ bucket, client }),
      bareWrite: (key, body) => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.byteLength })),
      reset,
    })
    client.destroy()
  }

  if (redisServer) {
    const client = new Redis(`redis://127.0.0.1:${redisServer.port}`)
    await runTarget('redis (redisStore)', {
      makeStore: () => redisStore({ client }),
      bareWrite: (key, body) => client.set(key, body),
      reset: () => client.flushall(),
    })
    await client.quit()
  }
} finally {
  await Promise.allSettled(starting)
  for (const stop of stops) await stop()
  if (root) await rm(root, { recursive: true, force: true })
}

const header = ['target', 'what', 'seconds', 'MiB/s', 'x bare', 'goal >= 0.8x']
console.log(`\n### stores (${(total / 1024 / 1024).toFixed(0)} MiB tree: ${BIG / 1024 / 1024} MiB + ${FILES} x ${FILE / 1024} KiB, concurrency ${CONCURRENCY}, ${cpus().length} cores, node ${process.version})\n`)
console.log(`| ${header.join(' | ')} |`)
console.log(`|${header.map(() => '---').join('|')}|`)
for (const row of rows) console.log(`| ${row.join(' | ')} |`)
log(`bench/stores: done in ${((Date.now() - started) / 1000).toFixed(0)} s`)
