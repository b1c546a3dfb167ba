// What crashed processes leave behind: a killed restore's temp files in root, a killed put's temp objects in the
// store, stale leases and locks. None is ever snapshotted or kept forever; nothing a live operation uses is touched.
import { CreateBucketCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3'
import { Redis } from 'ioredis'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createSnapshotter, memoryStore, type SnapshotStore } from '../../src/persistence/index.js'
import { prune } from '../../src/persistence/gc.js'
import { LEASES_PREFIX, LOCKS_PREFIX, newSnapshotId } from '../../src/persistence/layout.js'
import { fsStore } from '../../src/stores/fs.js'
import { redisStore } from '../../src/stores/redis.js'
import { s3Store } from '../../src/stores/s3.js'
import { describeTree } from './helpers.js'
import { digestTree, freshDir, requireServer, tempDir } from '../setup/store-tests.js'
import { waitFor } from '../setup/wait.js'

const here = dirname(fileURLToPath(import.meta.url))
const built = existsSync(join(here, '../../dist/persistence.js'))
const isTemp = (name: string) => /^\.scfg-.*\.tmp$/.test(name)

async function tempsUnder(root: string): Promise<string[]> {
  const found: string[] = []
  const walk = async (dir: string, rel: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) await walk(join(dir, e.name), r)
      else if (isTemp(e.name)) found.push(r)
    }
  }
  await walk(root, '')
  return found
}

/** Runs the slow-restore fixture and SIGKILLs it once its temp files are open in root. */
async function killRestoreMidway(root: string, storeDir: string, key: string): Promise<string[]> {
  const child = spawn(process.execPath, [join(here, 'fixtures/restore-slow.mjs'), root, storeDir, key], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d })
  child.stderr.on('data', (d: Buffer) => { out += d })
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()))
  try {
    await waitFor(
      async () => {
        if (existsSync(root) && (await tempsUnder(root)).length >= 2) return true
        if (child.exitCode !== null) throw new Error(`the restore child ended early: ${out}`)
        return false
      },
      { what: () => `two temp files under ${root}; child output: ${out}`, timeoutMs: 30_000 },
    )
  } finally {
    child.kill('SIGKILL')
    await closed
  }
  return tempsUnder(root)
}

describe.skipIf(!built)('a restore killed mid-way', () => {
  it('leaves temp files that the next snapshot never uploads and the next restore removes', async () => {
    const src = await tempDir('left-src')
    await mkdir(join(src, 'sub'))
    for (let i = 0; i < 8; i++) await writeFile(join(src, i % 2 ? `sub/f${i}` : `f${i}`), randomBytes(30_000))
    const storeDir = await tempDir('left-store')
    const store = fsStore({ dir: storeDir })
    await createSnapshotter({ store, root: src, key: 'fn/left', logger: false }).snapshot()

    const root = join(await tempDir('left-root'), 'root')
    const left = await killRestoreMidway(root, storeDir, 'fn/left')
    expect(left.length).toBeGreaterThanOrEqual(2)

    // a snapshot of the half-restored root (another key, as a user might) records none of them
    await createSnapshotter({ store, root, key: 'fn/other', logger: false }).snapshot()
    const check = await freshDir()
    await createSnapshotter({ store, root: check, key: 'fn/other', logger: false }).restore()
    expect(Object.keys(await describeTree(check)).filter((p) => isTemp(p.split('/').pop()!))).toEqual([])

    // the next restore into the same root removes them and gives the full tree
    await createSnapshotter({ store, root, key: 'fn/left', logger: false }).restore()
    expect(await tempsUnder(root)).toEqual([])
    expect(await digestTree(root)).toEqual(await digestTree(src))
  })

  it('a live restore\'s temp files (another process, still running) are kept', async () => {
    const root = await tempDir('left-live')
    const store = memoryStore()
    const src = await tempDir('left-live-src')
    await writeFile(join(src, 'a'), 'a')
    await createSnapshotter({ store, root: src, key: 'k', logger: false }).snapshot()
    // named after a live process that is not this one (the parent of this test worker)
    const live = `.scfg-0badc0de-${process.ppid.toString(36)}-0.tmp`
    const dead = `.scfg-0badc0de-${(2 ** 22 + 17).toString(36)}-0.tmp` // above the default pid_max: no such process
    await writeFile(join(root, live), 'in flight')
    await writeFile(join(root, dead), 'left over')
    await createSnapshotter({ store, root, key: 'k', logger: false }).restore()
    expect((await readdir(root)).filter(isTemp)).toEqual([live])
  })
})

async function countKeys(store: SnapshotStore, prefix: string): Promise<number> {
  let n = 0
  for await (const _ of store.list(prefix)) n++
  return n
}

const marker = (at: number) => Buffer.from(JSON.stringify({ op: 'snapshot', createdAt: at, refreshedAt: at, host: 'gone', pid: 1 }))

describe('prune sweeps stale leftovers in the store, never fresh ones', () => {
  it('fs store: stale temp files of killed puts, stale leases and locks go; fresh ones stay', async () => {
    const dir = await tempDir('sweep-fs')
    const store = fsStore({ dir })
    const root = await tempDir('sweep-fs-root')
    await writeFile(join(root, 'a'), 'a')
    await createSnapshotter({ store, root, key: 'k', logger: false }).snapshot()
    const tmp = join(dir, '.scfg-tmp')
    await writeFile(join(tmp, 'killed-put.tmp'), randomBytes(1000))
    const twoHoursAgo = (Date.now() - 2 * 3600_000) / 1000
    await utimes(join(tmp, 'killed-put.tmp'), twoHoursAgo, twoHoursAgo)
    await writeFile(join(tmp, 'running-put.tmp'), randomBytes(1000))
    const old = Date.now() - 3 * 3600_000
    await store.put(`${LOCKS_PREFIX}${newSnapshotId(old)}`, marker(old))
    // a stale lease is ignored by prune (else it would sweep nothing): it is also removed
    await store.put(`${LEASES_PREFIX}${newSnapshotId(old)}`, marker(old))

    const r = await createSnapshotter({ store, root, key: 'k', logger: false }).prune({ keepLast: 1 })
    expect(r).toMatchObject({ swept: true, deletedTemp: 3 })
    expect((await readdir(tmp)).sort()).toEqual(['running-put.tmp'])
    expect(await countKeys(store, 'gc/')).toBe(0)
    const check = await freshDir()
    await createSnapshotter({ store, root: check, key: 'k', logger: false }).restore()
    expect(await digestTree(check)).toEqual(await digestTree(root))
  })
})

const redis = requireServer('redis', 'prune sweeps stale temp keys in redis-server')
if (redis) {
  describe('prune sweeps stale temp keys in redis-server', () => {
    it('a temp key older than the margin goes, a younger one stays', async () => {
      const prefix = `sweep-${randomBytes(3).toString('hex')}:`
      const store = redisStore({ url: redis.url, prefix })
      const raw = new Redis(redis.url)
      try {
        const root = await tempDir('sweep-redis-root')
        await writeFile(join(root, 'a'), 'a')
        await createSnapshotter({ store, root, key: 'k', logger: false }).snapshot()
        // the store's temp keys are `{<full key>}\0tmp\0<hex>` created with a one-hour TTL: the TTL used up is the age
        const stale = `{${prefix}chunks/aa/killed}\0tmp\0${'1'.repeat(16)}`
        const fresh = `{${prefix}chunks/aa/running}\0tmp\0${'2'.repeat(16)}`
        await raw.set(stale, 'x', 'EX', 3600 - 600) // written 10 minutes ago
        await raw.set(fresh, 'y', 'EX', 3600 - 5)
        const r = await prune(store, { key: 'k', keepLast: 1, tempStaleMs: 5 * 60_000 })
        expect(r).toMatchObject({ swept: true, deletedTemp: 1 })
        expect(await raw.exists(stale)).toBe(0)
        expect(await raw.exists(fresh)).toBe(1)
        await raw.del(fresh)
      } finally {
        await store.close()
        raw.disconnect()
      }
    })
  })
}

const ceph = requireServer('ceph', 'prune sweeps stale multipart uploads in Ceph radosgw')
if (ceph) {
  describe('prune sweeps stale multipart uploads in Ceph radosgw', () => {
    it('an upload older than the margin is aborted, a younger one stays', async () => {
      const credentials = { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey }
      const bucket = `sweep-${process.pid}-${randomBytes(3).toString('hex')}`
      const admin = new S3Client({ endpoint: ceph.endpoint, region: ceph.region, forcePathStyle: true, credentials })
      const store = s3Store({ bucket, prefix: 'app/', endpoint: ceph.endpoint, region: ceph.region, credentials })
      try {
        await admin.send(new CreateBucketCommand({ Bucket: bucket }))
        const root = await tempDir('sweep-s3-root')
        await writeFile(join(root, 'a'), 'a')
        await createSnapshotter({ store, root, key: 'k', logger: false }).snapshot()
        // a killed streamed put leaves its multipart upload open; one outside the store's prefix is not ours
        const killed = await admin.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'app/chunks/aa/killed' }))
        const foreign = await admin.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'other/x' }))
        // aged past tempStaleMs as sweepTemp sees it: the server's Initiated time against this clock
        await waitFor(
          async () => {
            const uploads = (await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'app/' }))).Uploads ?? []
            const initiated = uploads.find((u) => u.UploadId === killed.UploadId)?.Initiated
            return initiated !== undefined && initiated.getTime() < Date.now() - 1500 - 100
          },
          { what: 'the killed upload to be older than tempStaleMs (1500 ms)', timeoutMs: 10_000, intervalMs: 100 },
        )
        const running = await admin.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'app/chunks/bb/running' }))
        const r = await prune(store, { key: 'k', keepLast: 1, tempStaleMs: 1500 })
        expect(r).toMatchObject({ swept: true, deletedTemp: 1 })
        const open = (await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.map((u) => u.UploadId).sort()
        expect(open).toEqual([foreign.UploadId, running.UploadId].sort())
        expect(open).not.toContain(killed.UploadId)
      } finally {
        await store.close()
        admin.destroy()
      }
    })
  })
}
