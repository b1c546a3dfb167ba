import { randomBytes } from 'node:crypto'
import { chmod, lstat, lutimes, mkdir, readFile, symlink, utimes, writeFile, appendFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CHUNK_SIZE, createSnapshotter, memoryStore } from '../../src/persistence/index.js'
import { fsStore } from '../../src/stores/fs.js'
import { captureLogger, describeTree, useCases } from './helpers.js'

const nextCase = useCases()
const fresh = async () => {
  const c = await nextCase()
  return { root: c.root, restored: c.restored, store: fsStore({ dir: c.storeDir }) }
}

describe('round trip', () => {
  it('is byte-identical: content, modes, mtimes, empty files and dirs, deep trees, symlinks, big files', async () => {
    const { root, restored, store } = await fresh()
    await mkdir(join(root, 'empty-dir/nested-empty'), { recursive: true })
    await writeFile(join(root, 'empty-file'), '')
    await writeFile(join(root, 'exec.sh'), '#!/bin/sh\necho hi\n')
    await chmod(join(root, 'exec.sh'), 0o755)
    await writeFile(join(root, 'private'), 'secret-ish')
    await chmod(join(root, 'private'), 0o600)
    let deep = root
    for (let i = 0; i < 40; i++) deep = join(deep, `d${i}`)
    await mkdir(deep, { recursive: true })
    await writeFile(join(deep, 'leaf.bin'), randomBytes(1000))
    // exactly one chunk, one byte over, and a multi-chunk file with a ragged tail
    await writeFile(join(root, 'one-chunk'), randomBytes(CHUNK_SIZE))
    await writeFile(join(root, 'chunk-plus-one'), randomBytes(CHUNK_SIZE + 1))
    await writeFile(join(root, 'big'), randomBytes(2 * CHUNK_SIZE + 12345))
    await writeFile(join(root, 'binary'), Buffer.from([0, 255, 0, 1, 0xc3, 0x28]))
    await writeFile(join(root, 'ünïcödé name with spaces'), 'x')
    await symlink('exec.sh', join(root, 'link-to-exec'))
    await symlink('d0/d1', join(root, 'link-to-dir'))
    await mkdir(join(root, 'ro-dir'))
    await writeFile(join(root, 'ro-dir/inside'), 'y')
    await chmod(join(root, 'ro-dir'), 0o555)
    await utimes(join(root, 'private'), new Date('2001-02-03T04:05:06.789Z'), new Date('2001-02-03T04:05:06.789Z'))
    await utimes(join(root, 'empty-dir'), new Date('2010-01-01T00:00:00Z'), new Date('2010-01-01T00:00:00Z'))
    await lutimes(join(root, 'link-to-exec'), new Date('2005-05-05T05:05:05.505Z'), new Date('2005-05-05T05:05:05.505Z'))

    const before = await describeTree(root)
    const result = await createSnapshotter({ store, root, key: 'fn/rt' }).snapshot()
    expect(result.files).toBe(Object.values(before).filter((e) => e.type === 'file').length)
    await createSnapshotter({ store, root: restored, key: 'fn/rt' }).restore()
    expect(await describeTree(restored)).toEqual(before)
    expect((await stat(join(restored, 'private'))).mtime.toISOString()).toBe('2001-02-03T04:05:06.789Z')
    // a symlink keeps its own mtime too
    expect((await lstat(join(restored, 'link-to-exec'))).mtime.toISOString()).toBe('2005-05-05T05:05:05.505Z')
    await chmod(join(root, 'ro-dir'), 0o755)
    await chmod(join(restored, 'ro-dir'), 0o755)
  })

  it('10,000 small files', async () => {
    const { root, restored, store } = await fresh()
    for (let d = 0; d < 100; d++) {
      await mkdir(join(root, `dir-${d}`))
      await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(join(root, `dir-${d}`, `f-${f}.txt`), `file ${d}/${f} ${randomBytes(8).toString('hex')}`)))
    }
    const before = await describeTree(root)
    const r = await createSnapshotter({ store, root, key: 'many' }).snapshot()
    expect(r.files).toBe(10_000)
    await createSnapshotter({ store, root: restored, key: 'many' }).restore()
    expect(await describeTree(restored)).toEqual(before)
  }, 120_000)

  it('memoryStore round trip too', async () => {
    const { root, restored } = await fresh()
    const store = memoryStore()
    await writeFile(join(root, 'a'), 'a')
    await createSnapshotter({ store, root, key: 'm' }).snapshot()
    await createSnapshotter({ store, root: restored, key: 'm' }).restore()
    expect(await describeTree(restored)).toEqual(await describeTree(root))
  })
})

describe('incremental', () => {
  it('an unchanged re-snapshot uploads nothing and reads nothing; an append uploads only the last chunk', async () => {
    const { root, store } = await fresh()
    await writeFile(join(root, 'big'), randomBytes(3 * CHUNK_SIZE + 100))
    for (let i = 0; i < 20; i++) await writeFile(join(root, `small-${i}`), randomBytes(100))
    const snap = createSnapshotter({ store, root, key: 'inc' })
    const first = await snap.snapshot()
    expect(first.uploadedChunks).toBe(4 + 20)
    const second = await snap.snapshot()
    expect(second.uploadedBytes).toBe(0)
    expect(second.unchangedFiles).toBe(21)
    await appendFile(join(root, 'big'), randomBytes(1024 * 1024))
    const third = await snap.snapshot()
    expect(third.uploadedChunks).toBe(1)
    expect(third.uploadedBytes).toBe(100 + 1024 * 1024)
    expect(third.unchangedFiles).toBe(20)
  })

  it('after a restore in a fresh process state, unchanged files are recognised without re-reading', async () => {
    const { root, restored, store } = await fresh()
    for (let i = 0; i < 10; i++) await writeFile(join(root, `f-${i}`), randomBytes(5000))
    await createSnapshotter({ store, root, key: 'cross' }).snapshot()
    await createSnapshotter({ store, root: restored, key: 'cross' }).restore()
    // a new snapshotter = what a new process would build; the state cache is on disk under root/.scf-graceful
    const again = await createSnapshotter({ store, root: restored, key: 'cross' }).snapshot()
    expect(again.unchangedFiles).toBe(10)
    expect(again.uploadedBytes).toBe(0)
  })

  it('identical content in different files and keys is stored once', async () => {
    const { root, store } = await fresh()
    const same = randomBytes(50_000)
    await writeFile(join(root, 'a'), same)
    await writeFile(join(root, 'b'), same)
    const r1 = await createSnapshotter({ store, root, key: 'k1' }).snapshot()
    expect(r1.uploadedChunks).toBe(1)
    const r2 = await createSnapshotter({ store, root, key: 'k2' }).snapshot()
    expect(r2.uploadedChunks).toBe(0)
  })
})

describe('filters, defaults, the store inside root', () => {
  it('never snapshots an fsStore dir that lives under root, nor the local state dir', async () => {
    const { root, restored } = await fresh()
    const store = fsStore({ dir: join(root, 'my-store') })
    await writeFile(join(root, 'data'), 'd')
    const snap = createSnapshotter({ store, root, key: 'self' })
    await snap.snapshot()
    const r = await snap.snapshot()
    expect(r.files).toBe(1)
    await createSnapshotter({ store, root: restored, key: 'self' }).restore()
    expect(Object.keys(await describeTree(restored))).toEqual(['data'])
  })

  it('include and exclude globs', async () => {
    const { root, restored, store } = await fresh()
    await mkdir(join(root, 'cache/x'), { recursive: true })
    await mkdir(join(root, 'work'), { recursive: true })
    await writeFile(join(root, 'cache/x/a.bin'), 'a')
    await writeFile(join(root, 'work/keep.json'), '{}')
    await writeFile(join(root, 'work/drop.log'), 'log')
    await writeFile(join(root, 'top.json'), '{}')
    await createSnapshotter({ store, root, key: 'filt', include: ['*.json', 'cache/**'], exclude: ['cache/x'] }).snapshot()
    await createSnapshotter({ store, root: restored, key: 'filt' }).restore()
    expect(Object.keys(await describeTree(restored, { mtimes: false }))).toEqual(['top.json', 'work', 'work/keep.json'])
  })

  it('include keeps every ancestor of what it keeps, at any depth, and no directory that holds nothing kept', async () => {
    const { root, restored, store } = await fresh()
    // a/b/c/.../deep/keep.json (30 levels) beside a/b/other/drop.log, a/b/matched.d/ (a directory the glob matches,
    // kept though empty) and a/empty/
    const deep = Array.from({ length: 30 }, (_, i) => `l${i}`).join('/')
    await mkdir(join(root, 'a/b', deep), { recursive: true })
    await mkdir(join(root, 'a/b/other'), { recursive: true })
    await mkdir(join(root, 'a/b/matched.d'), { recursive: true })
    await mkdir(join(root, 'a/empty'), { recursive: true })
    await writeFile(join(root, 'a/b', deep, 'keep.json'), '{}')
    await writeFile(join(root, 'a/b', deep, 'second.json'), '{}')
    await writeFile(join(root, 'a/b/other/drop.log'), 'log')
    await createSnapshotter({ store, root, key: 'deep', include: ['**/*.json', '**/*.d'] }).snapshot()
    await createSnapshotter({ store, root: restored, key: 'deep' }).restore()
    const ancestors = deep.split('/').map((_, i, all) => `a/b/${all.slice(0, i + 1).join('/')}`)
    expect(Object.keys(await describeTree(restored, { mtimes: false })).sort()).toEqual(
      ['a', 'a/b', 'a/b/matched.d', ...ancestors, `a/b/${deep}/keep.json`, `a/b/${deep}/second.json`].sort(),
    )
  })

  it('bad options fail fast with SCFG_ERR_INVALID_OPTION naming the option', () => {
    const store = memoryStore()
    const bad = (o: object) => expect(() => createSnapshotter({ store, ...o } as never)).toThrow(expect.objectContaining({ code: 'SCFG_ERR_INVALID_OPTION' }))
    bad({ store: {} })
    bad({ key: '../x' })
    bad({ key: 'a//b' })
    bad({ key: '_ref' })
    bad({ root: '' })
    bad({ include: [42] })
    bad({ concurrency: 0 })
    expect(() => createSnapshotter({ store }).prune({ keepLast: 0 })).toThrow(expect.objectContaining({ code: 'SCFG_ERR_INVALID_OPTION' }))
  })

  it('defaults: root and key follow the SCF environment', async () => {
    const { defaultKey, defaultRoot } = await import('../../src/persistence/index.js')
    expect(defaultRoot({ TENCENTCLOUD_RUNENV: 'SCF' })).toBe('/tmp')
    expect(defaultKey({ SCF_NAMESPACE: 'prod', SCF_FUNCTIONNAME: 'resize' })).toBe('prod/resize')
    expect(defaultKey({})).toBe('default/local')
  })

  it('restore with nothing stored says SCFG_ERR_SNAPSHOT_NOT_FOUND', async () => {
    const { restored, store } = await fresh()
    await expect(createSnapshotter({ store, root: restored, key: 'none' }).restore()).rejects.toMatchObject({ code: 'SCFG_ERR_SNAPSHOT_NOT_FOUND' })
  })
})
