// The performance paths must keep every guarantee: the fsStore readInto path
// still refuses a wrong chunk, skipping has() on an empty store still dedupes later.
import { createHash, randomBytes } from 'node:crypto'
import { appendFile, chmod, mkdir, readdir, readFile, symlink, unlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSnapshotter, memoryStore, type SnapshotStore } from '../../src/persistence/index.js'
import { chunkKey, CHUNK_SIZE } from '../../src/persistence/layout.js'
import { fsStore } from '../../src/stores/fs.js'
import { describeTree, useCases } from './helpers.js'

const fresh = useCases()
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe('large trees (fsStore readInto)', () => {
  const bigTree = async (root: string) => {
    await writeFile(join(root, 'big.bin'), randomBytes(16 * CHUNK_SIZE + 777))
    await mkdir(join(root, 'small'))
    for (let i = 0; i < 20; i++) await writeFile(join(root, 'small', `f${i}`), randomBytes(1000 * i))
  }

  it('round trip is byte-identical; an unchanged re-snapshot reads and uploads nothing', async () => {
    const { root, restored, storeDir } = await fresh()
    await bigTree(root)
    const snap = createSnapshotter({ store: fsStore({ dir: storeDir }), root, key: 'big' })
    const first = await snap.snapshot()
    expect(first.uploadedBytes).toBeGreaterThan(16 * CHUNK_SIZE)
    const again = await snap.snapshot()
    expect(again).toMatchObject({ uploadedChunks: 0, unchangedFiles: 21 })
    await createSnapshotter({ store: fsStore({ dir: storeDir }), root: restored, key: 'big' }).restore()
    expect(await describeTree(restored)).toEqual(await describeTree(root))
  }, 60_000)

  it('a chunk with the right size but wrong bytes in an fsStore -> SCFG_ERR_CHUNK_CORRUPT, nothing of that file written', async () => {
    const { root, restored, storeDir } = await fresh()
    await bigTree(root)
    const store = fsStore({ dir: storeDir })
    await createSnapshotter({ store, root, key: 'k' }).snapshot()
    const big = await readFile(join(root, 'big.bin'))
    const victim = sha(big.subarray(CHUNK_SIZE, 2 * CHUNK_SIZE))
    const evil = Buffer.from(big.subarray(CHUNK_SIZE, 2 * CHUNK_SIZE))
    evil[12345] = evil[12345]! ^ 1
    await store.put(chunkKey(victim), evil)
    await expect(createSnapshotter({ store, root: restored, key: 'k', concurrency: 1 }).restore()).rejects.toMatchObject({ code: 'SCFG_ERR_CHUNK_CORRUPT' })
    const left = await readdir(restored)
    expect(left.filter((name) => name.endsWith('.tmp'))).toEqual([])
    expect(left).not.toContain('big.bin')
  }, 60_000)

  it('an oversized or missing chunk in an fsStore is refused (readInto path)', async () => {
    const { root, restored, storeDir } = await fresh()
    await writeFile(join(root, 'f'), 'small content')
    const store = fsStore({ dir: storeDir })
    await createSnapshotter({ store, root, key: 'k' }).snapshot()
    const key = chunkKey(sha(Buffer.from('small content')))
    await store.put(key, Buffer.alloc(2 * 1024 * 1024))
    await expect(createSnapshotter({ store, root: restored, key: 'k' }).restore()).rejects.toMatchObject({ code: 'SCFG_ERR_CHUNK_CORRUPT' })
    await store.delete(key)
    await expect(createSnapshotter({ store, root: restored, key: 'k' }).restore()).rejects.toMatchObject({ code: 'SCFG_ERR_CHUNK_MISSING' })
    expect((await readdir(restored)).filter((name) => name !== '.scf-graceful')).toEqual([])
  })
})

describe('fsStore.readInto', () => {
  it('reads a value into the given memory and reports its size; undefined when missing; size only when too big', async () => {
    const { storeDir } = await fresh()
    const store = fsStore({ dir: storeDir })
    await store.put('a/b', Buffer.from('hello'))
    const into = Buffer.alloc(8)
    expect(await store.readInto!('a/b', into)).toBe(5)
    expect(into.subarray(0, 5).toString()).toBe('hello')
    expect(await store.readInto!('a/missing', into)).toBeUndefined()
    expect(await store.readInto!('a', into)).toBeUndefined()
    const small = Buffer.alloc(3)
    expect(await store.readInto!('a/b', small)).toBe(5)
    await expect(store.readInto!('../x', into)).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_KEY_INVALID' })
  })
})

describe('has() is skipped only while the store holds no chunk', () => {
  it('a first snapshot into an empty store asks has() nothing; later snapshots still dedupe', async () => {
    const { root } = await fresh()
    const inner = memoryStore()
    let hasCalls = 0
    const store: SnapshotStore = { ...inner, kind: 'counting', has: (k, o) => { hasCalls++; return inner.has(k, o) } }
    for (let i = 0; i < 5; i++) await writeFile(join(root, `f${i}`), randomBytes(100))
    await writeFile(join(root, 'dup'), 'same')
    await writeFile(join(root, 'dup2'), 'same')
    const first = await createSnapshotter({ store, root, key: 'a' }).snapshot()
    expect(hasCalls).toBe(0)
    expect(first.uploadedChunks).toBe(6)
    // another key in the same store: its chunks already exist, has() finds them and nothing is sent again
    const second = await createSnapshotter({ store, root, key: 'b' }).snapshot()
    expect(hasCalls).toBeGreaterThan(0)
    expect(second.uploadedChunks).toBe(0)
  })
})

describe('an untouched tree', () => {
  /** A memory store that counts what was written to it. */
  const countingWrites = () => {
    const inner = memoryStore()
    const writes: string[] = []
    const store: SnapshotStore = {
      ...inner,
      put: (key, body, o) => (writes.push(`put ${key}`), inner.put(key, body, o)),
      delete: (keys, o) => (writes.push(`delete ${String(keys)}`), inner.delete(keys, o)),
    }
    return { store, writes }
  }

  it('writes nothing: the snapshot the ref points at is returned as this one', async () => {
    const { root } = await fresh()
    await mkdir(join(root, 'dir/empty'), { recursive: true })
    await writeFile(join(root, 'dir/a.bin'), randomBytes(50_000))
    await symlink('dir/a.bin', join(root, 'link'))
    const { store, writes } = countingWrites()
    const snap = createSnapshotter({ store, root, key: 'idle' })
    const first = await snap.snapshot()
    writes.length = 0
    const again = await snap.snapshot()
    expect(writes).toEqual([])
    expect(first.committed).toBe(true)
    expect(again).toMatchObject({ id: first.id, committed: false, files: 1, bytes: 50_000, uploadedChunks: 0, uploadedBytes: 0, unchangedFiles: 1 })
    // a new instance that restored it and changed nothing uploads nothing, and its checkpoints write nothing (the
    // exact-mtime case is the test of 'a restored tree' below)
    const { restored } = await fresh()
    const there = createSnapshotter({ store, root: restored, key: 'idle' })
    await there.restore()
    const settled = await there.snapshot()
    expect(settled.uploadedBytes).toBe(0)
    writes.length = 0
    expect((await there.snapshot()).id).toBe(settled.id)
    expect(writes).toEqual([])
  })

  it('any change still makes a new snapshot: new dir, chmod, touched mtime, retargeted link, removed file', async () => {
    const { root, restored } = await fresh()
    await mkdir(join(root, 'd'))
    await writeFile(join(root, 'd/f'), 'f')
    await writeFile(join(root, 'g'), 'g')
    await symlink('g', join(root, 'l'))
    const { store } = countingWrites()
    const snap = createSnapshotter({ store, root, key: 'changes' })
    let last = (await snap.snapshot()).id
    const changes: [string, () => Promise<unknown>][] = [
      ['new empty dir', () => mkdir(join(root, 'd/new'))],
      ['chmod', () => chmod(join(root, 'g'), 0o600)],
      ['touched mtime, same bytes', () => utimes(join(root, 'd/f'), new Date(), new Date(Date.now() - 60_000))],
      ['retargeted link', async () => (await unlink(join(root, 'l')), await symlink('d/f', join(root, 'l')))],
      ['removed file', () => unlink(join(root, 'g'))],
    ]
    for (const [what, change] of changes) {
      await change()
      const id = (await snap.snapshot()).id
      expect(id, what).not.toBe(last)
      last = id
    }
    await createSnapshotter({ store, root: restored, key: 'changes' }).restore()
    expect(await describeTree(restored)).toEqual(await describeTree(root))
  })

  it('another writer moved the ref: the untouched tree is written again, and restore gives it back', async () => {
    const { root, restored, dir } = await fresh()
    await writeFile(join(root, 'mine'), 'mine')
    const other = join(dir, 'other')
    await mkdir(other)
    await writeFile(join(other, 'theirs'), 'theirs')
    const { store } = countingWrites()
    const mine = createSnapshotter({ store, root, key: 'shared' })
    const first = await mine.snapshot()
    await createSnapshotter({ store, root: other, key: 'shared' }).snapshot()
    const again = await mine.snapshot()
    expect(again.id).not.toBe(first.id)
    await createSnapshotter({ store, root: restored, key: 'shared' }).restore()
    expect(await describeTree(restored)).toEqual(await describeTree(root))
  })
})

describe('a 1 MiB append to a large file', () => {
  // fixed 4 MiB chunks: an append rewrites the file's last, partial chunk and adds new ones only past its end
  for (const [title, size] of [['ending in a partial chunk', 3 * CHUNK_SIZE + 1024 * 1024], ['ending on a chunk boundary', 3 * CHUNK_SIZE]] as const) {
    it(`${title}: re-uploads at most one chunk plus the manifest`, async () => {
      const { root, restored } = await fresh()
      await writeFile(join(root, 'big.bin'), randomBytes(size))
      await writeFile(join(root, 'other'), 'x')
      const inner = memoryStore()
      const puts: string[] = []
      const counting: SnapshotStore = { ...inner, put: (key, body, o) => (puts.push(key), inner.put(key, body, o)) }
      const snap = createSnapshotter({ store: counting, root, key: 'append' })
      await snap.snapshot()
      await appendFile(join(root, 'big.bin'), randomBytes(1024 * 1024))
      puts.length = 0
      const r = await snap.snapshot()
      expect(r).toMatchObject({ committed: true, uploadedChunks: 1, unchangedFiles: 1 })
      expect(r.uploadedBytes).toBeLessThanOrEqual(CHUNK_SIZE)
      expect(puts.filter((k) => k.startsWith('chunks/'))).toHaveLength(1)
      expect(puts.filter((k) => k.includes('/_manifests/'))).toHaveLength(1)
      await createSnapshotter({ store: inner, root: restored, key: 'append' }).restore()
      expect(await describeTree(restored)).toEqual(await describeTree(root))
    })
  }
})

describe('the head file (an unchanged re-snapshot reads nothing else)', () => {
  const counting = () => {
    const inner = memoryStore()
    const writes: string[] = []
    const store: SnapshotStore = { ...inner, put: (key, body, o) => (writes.push(key), inner.put(key, body, o)) }
    return { store, writes }
  }
  const stateFiles = async (root: string) => (await readdir(join(root, '.scf-graceful'))).filter((n) => n.endsWith('.json'))

  it('a damaged per-file state cache does not matter while the head matches', async () => {
    const { root } = await fresh()
    for (let i = 0; i < 20; i++) await writeFile(join(root, `f${i}`), randomBytes(1000))
    const { store, writes } = counting()
    const snap = createSnapshotter({ store, root, key: 'h' })
    const first = await snap.snapshot()
    const files = await stateFiles(root)
    expect(files.filter((n) => n.startsWith('head-'))).toHaveLength(1)
    for (const name of files.filter((n) => n.startsWith('state-'))) await writeFile(join(root, '.scf-graceful', name), '{ torn')
    writes.length = 0
    const again = await snap.snapshot()
    expect(again).toMatchObject({ id: first.id, committed: false, uploadedBytes: 0 })
    expect(writes).toEqual([])
  })

  it('a damaged head costs one manifest and no chunk; a file replaced by an identical copy is read again', async () => {
    const { root } = await fresh()
    await writeFile(join(root, 'a'), randomBytes(5000))
    await writeFile(join(root, 'b'), randomBytes(5000))
    const { store, writes } = counting()
    const snap = createSnapshotter({ store, root, key: 'h' })
    const first = await snap.snapshot()
    for (const name of (await stateFiles(root)).filter((n) => n.startsWith('head-'))) await writeFile(join(root, '.scf-graceful', name), 'not json')
    writes.length = 0
    const second = await snap.snapshot()
    expect(second).toMatchObject({ committed: true, uploadedChunks: 0, unchangedFiles: 2 })
    expect(second.id).not.toBe(first.id)
    expect(writes.filter((k) => k.startsWith('chunks/'))).toEqual([])
    // same bytes and mtime, new inode and ctime: the identity differs, so the file is read (and deduped) again
    const bytes = await readFile(join(root, 'a'))
    const { mtime } = await import('node:fs').then((fs) => fs.statSync(join(root, 'a')))
    await unlink(join(root, 'a'))
    await writeFile(join(root, 'a'), bytes)
    await utimes(join(root, 'a'), mtime, mtime)
    const third = await snap.snapshot()
    expect(third).toMatchObject({ committed: true, uploadedChunks: 0, unchangedFiles: 1 })
    expect((await snap.snapshot())).toMatchObject({ id: third.id, committed: false })
  })
})

describe('a restored tree', () => {
  it('is its snapshot at once: the next snapshot writes nothing, even where utimes cannot set the exact mtime', async () => {
    const { root, restored } = await fresh()
    await mkdir(join(root, 'd/e'), { recursive: true })
    await writeFile(join(root, 'd/e/f'), randomBytes(3000))
    await symlink('e/f', join(root, 'd/link'))
    // mtimes with sub-microsecond parts: utimes takes seconds as a double, so these do not come back exactly
    for (const [p, t] of [['d/e', 1_700_000_000.123_456_7], ['d', 1_700_000_001.987_654_3]] as const) await utimes(join(root, p), t, t)
    const inner = memoryStore()
    const writes: string[] = []
    const store: SnapshotStore = { ...inner, put: (key, body, o) => (writes.push(key), inner.put(key, body, o)) }
    const first = await createSnapshotter({ store, root, key: 'r' }).snapshot()
    const there = createSnapshotter({ store, root: restored, key: 'r' })
    await there.restore()
    writes.length = 0
    expect(await there.snapshot()).toMatchObject({ id: first.id, committed: false })
    expect(writes).toEqual([])
  })
})

describe('reading a source file on a local disk and on a slow one', () => {
  it('localFileIo (synchronous) and threadPoolFileIo (the walk found the disk slow) read the same bytes and fail the same way', async () => {
    const { localFileIo, threadPoolFileIo } = await import('../../src/persistence/chunk-upload.js')
    const { root } = await fresh()
    const bytes = randomBytes(300_000)
    await writeFile(join(root, 'f'), bytes)
    for (const io of [localFileIo, threadPoolFileIo]) {
      const fd = await io.open(join(root, 'f'))
      expect((await io.fstat(fd)).size).toBe(bytes.length)
      const into = Buffer.alloc(1000)
      expect(await io.read(fd, into, 10, 500, 1234)).toBe(500)
      expect(into.subarray(10, 510)).toEqual(bytes.subarray(1234, 1734))
      await io.close(fd)
      await expect(io.open(join(root, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' })
    }
  })
})
