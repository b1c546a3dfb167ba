// A running restore is protected like a running writer: prune deletes nothing it still needs, on every store.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSnapshotter, memoryStore, type SnapshotStore } from '../../src/persistence/index.js'
import { prune } from '../../src/persistence/gc.js'
import { LEASES_PREFIX, LOCKS_PREFIX, newSnapshotId } from '../../src/persistence/layout.js'
import { fsStore } from '../../src/stores/fs.js'
import { redisStore } from '../../src/stores/redis.js'
import { s3Store } from '../../src/stores/s3.js'
import { faultStore } from '../setup/faults.mjs'
import { digestTree, freshDir, requireServer, tempDir } from '../setup/store-tests.js'
import { waitFor } from '../setup/wait.js'

const CHUNK_READ_DELAY_MS = 700

/**
 * The story: a snapshot; a restore of it that reads chunks slowly; meanwhile another writer commits a different tree
 * and `prune({ keepLast: 1 })` runs. The restore must finish with exactly the tree it started from.
 */
async function slowRestoreSurvivesPrune(store: SnapshotStore, key: string): Promise<void> {
  const root = await tempDir('lease-src')
  for (let i = 0; i < 12; i++) await writeFile(join(root, `f${i}.bin`), randomBytes(50_000))
  await createSnapshotter({ store, root, key, logger: false }).snapshot()
  const before = await digestTree(root)

  const slow = faultStore(store, [{ op: ['get', 'readInto'], key: /^chunks\//, action: 'delay', delayMs: CHUNK_READ_DELAY_MS }])
  const target = await freshDir()
  const order: string[] = []
  const restoring = createSnapshotter({ store: slow, root: target, key, logger: false }).restore().then(
    (r) => { order.push('restored'); return r },
    (e: unknown) => { order.push('restore failed'); throw e },
  )
  void restoring.catch(() => {}) // awaited below; an early failed expect must not leave it unhandled
  // wait until the restore is reading chunks (it holds the manifest by then)
  await waitFor(() => slow.calls.get + slow.calls.readInto > 0, { what: 'the restore reading its first chunk', timeoutMs: 5000 })

  // another writer replaces every file and commits; prune keeps only that one
  for (let i = 0; i < 12; i++) await writeFile(join(root, `f${i}.bin`), randomBytes(50_000))
  await createSnapshotter({ store, root, key, logger: false }).snapshot()
  const pruned = await createSnapshotter({ store, root, key, logger: false }).prune({ keepLast: 1 })
  order.push('pruned')
  expect(pruned).toEqual({ deletedManifests: 0, deletedChunks: 0, deletedTemp: 0, swept: false })

  const result = await restoring
  // the prune really ran while the restore was reading (else this test proves nothing)
  expect(order).toEqual(['pruned', 'restored'])
  expect(result.files).toBe(12)
  expect(await digestTree(target)).toEqual(before)

  // with the restore over, its lease is gone: the next prune sweeps the first snapshot
  const after = await createSnapshotter({ store, root, key, logger: false }).prune({ keepLast: 1 })
  expect(after.swept).toBe(true)
  expect(after.deletedManifests).toBe(1)
  expect(after.deletedChunks).toBeGreaterThanOrEqual(12)
  const again = await freshDir()
  await createSnapshotter({ store, root: again, key, logger: false }).restore()
  expect(await digestTree(again)).toEqual(await digestTree(root))
}

async function countKeys(store: SnapshotStore, prefix: string): Promise<number> {
  let n = 0
  for await (const _ of store.list(prefix)) n++
  return n
}

describe('restore holds a reader lease', () => {
  it('fs store: a slow restore finishes with the full tree while another writer commits and prune keepLast:1 runs', async () => {
    await slowRestoreSurvivesPrune(fsStore({ dir: await tempDir('lease-fs') }), 'fn/lease')
  })

  it('the lease is released after a restore, failed or not, and a stale one does not block prune', async () => {
    const store = memoryStore()
    const root = await tempDir('lease-rel')
    await writeFile(join(root, 'a'), 'a')
    const snap = createSnapshotter({ store, root, key: 'rel', logger: false })
    await snap.snapshot()
    await createSnapshotter({ store, root: await freshDir(), key: 'rel', logger: false }).restore()
    expect(await countKeys(store, LEASES_PREFIX)).toBe(0)
    const failing = faultStore(store, [{ op: 'get', key: /^chunks\//, action: 'fail' }])
    await expect(createSnapshotter({ store: failing, root: await freshDir(), key: 'rel', logger: false }).restore()).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_UNAVAILABLE' })
    expect(await countKeys(store, LEASES_PREFIX)).toBe(0)

    // a restore that crashed 20 minutes ago left its lease: stale, ignored
    const old = Date.now() - 20 * 60_000
    await store.put(`${LEASES_PREFIX}${newSnapshotId(old)}`, Buffer.from(JSON.stringify({ op: 'restore', createdAt: old, refreshedAt: old, host: 'gone', pid: 1 })))
    await writeFile(join(root, 'a'), 'b')
    await snap.snapshot()
    expect(await prune(store, { key: 'rel', keepLast: 1 })).toEqual({ deletedManifests: 1, deletedChunks: 1, deletedTemp: 1, swept: true })
    expect(await countKeys(store, LEASES_PREFIX)).toBe(0)
  })

  it('a restore waits while a live prune lock exists, and its deadline ends the wait', async () => {
    const store = memoryStore()
    const root = await tempDir('lease-lock')
    await writeFile(join(root, 'a'), 'a')
    await createSnapshotter({ store, root, key: 'lock', logger: false }).snapshot()
    await store.put(`${LOCKS_PREFIX}${newSnapshotId()}`, Buffer.from(JSON.stringify({ op: 'prune', createdAt: Date.now(), refreshedAt: Date.now(), host: 'h', pid: 1 })))
    const target = await freshDir()
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('deadline')), 500)
    await expect(createSnapshotter({ store, root: target, key: 'lock', logger: false }).restore({ signal: controller.signal })).rejects.toMatchObject({ code: 'SCFG_ERR_SNAPSHOT_ABORTED' })
    expect(await countKeys(store, LEASES_PREFIX)).toBe(0)
  })
})

const redis = requireServer('redis', 'restore lease against redis-server')
if (redis) {
  describe('restore lease against redis-server', () => {
    it('a slow restore finishes with the full tree while another writer commits and prune keepLast:1 runs', async () => {
      const store = redisStore({ url: redis.url, prefix: `lease-${randomBytes(3).toString('hex')}:` })
      try {
        await slowRestoreSurvivesPrune(store, 'fn/lease')
      } finally {
        await store.close()
      }
    })
  })
}

const ceph = requireServer('ceph', 'restore lease against Ceph radosgw')
if (ceph) {
  describe('restore lease against Ceph radosgw', () => {
    it('a slow restore finishes with the full tree while another writer commits and prune keepLast:1 runs', async () => {
      const credentials = { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey }
      const bucket = `lease-${process.pid}-${randomBytes(3).toString('hex')}`
      const admin = new S3Client({ endpoint: ceph.endpoint, region: ceph.region, forcePathStyle: true, credentials })
      await admin.send(new CreateBucketCommand({ Bucket: bucket }))
      admin.destroy()
      const store = s3Store({ bucket, endpoint: ceph.endpoint, region: ceph.region, credentials })
      try {
        await slowRestoreSurvivesPrune(store, 'fn/lease')
      } finally {
        await store.close()
      }
    })
  })
}
