// Hostile manifests and stores: restore must refuse with a stable code, write zero bytes outside root and never
// leave a corrupted file in place.
import { createHash, randomBytes } from 'node:crypto'
import { lstat, mkdir, readdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSnapshotter, memoryStore, type SnapshotStore } from '../../src/persistence/index.js'
import { chunkKey, CHUNK_SIZE, FORMAT, manifestKey, newSnapshotId, refKey } from '../../src/persistence/layout.js'
import { describeTree, scratch } from './helpers.js'

let base: { dir: string; cleanup(): Promise<void> }
beforeAll(async () => { base = await scratch() })
afterAll(async () => { await base.cleanup() })

let n = 0
async function sandbox() {
  const dir = join(base.dir, `case-${++n}`)
  const root = join(dir, 'root')
  const outside = join(dir, 'outside')
  await mkdir(root, { recursive: true })
  await mkdir(outside, { recursive: true })
  await writeFile(join(outside, 'canary'), 'untouched')
  return { dir, root, outside }
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function plant(store: SnapshotStore, key: string, entries: unknown[], extra: Record<string, unknown> = {}): Promise<void> {
  const id = newSnapshotId()
  const manifest = { format: FORMAT, id, key, createdAt: new Date().toISOString(), chunkSize: CHUNK_SIZE, files: 0, bytes: 0, entries, ...extra }
  await store.put(manifestKey(key, id), Buffer.from(JSON.stringify(manifest)))
  await store.put(refKey(key), Buffer.from(JSON.stringify({ manifest: id })))
}

async function fileEntry(store: SnapshotStore, p: string, content: Buffer) {
  const h = sha(content)
  await store.put(chunkKey(h), content)
  return { p, t: 'f', m: 0o644, mt: Date.now(), s: content.length, c: content.length ? [h] : [] }
}

async function expectNothingOutside(dir: string, outside: string) {
  expect(await readdir(outside)).toEqual(['canary'])
  expect(await readFile(join(outside, 'canary'), 'utf8')).toBe('untouched')
  expect((await readdir(dir)).sort()).toEqual(['outside', 'root'])
}

describe('hostile manifests', () => {
  const cases: [string, (store: SnapshotStore, ctx: { outside: string }) => Promise<unknown[]>][] = [
    ['absolute path', async (s, { outside }) => [await fileEntry(s, join(outside, 'pwned'), Buffer.from('x'))]],
    ['"/" prefixed path', async (s) => [await fileEntry(s, '/pwned', Buffer.from('x'))]],
    ['".." path', async (s) => [await fileEntry(s, '../outside/pwned', Buffer.from('x'))]],
    ['".." in the middle', async (s) => [{ p: 'a', t: 'd', m: 0o755, mt: 1 }, await fileEntry(s, 'a/../../outside/pwned', Buffer.from('x'))]],
    ['NUL in a path', async (s) => [await fileEntry(s, 'ok\0/../../pwned', Buffer.from('x'))]],
    ['backslash path', async (s) => [await fileEntry(s, '..\\outside\\pwned', Buffer.from('x'))]],
    ['symlink leading out, then a file through it', async (s) => [{ p: 'esc', t: 'l', tg: '../outside', mt: 1 }, await fileEntry(s, 'esc/pwned', Buffer.from('x'))]],
    ['absolute symlink', async (_s, { outside }) => [{ p: 'esc', t: 'l', tg: outside, mt: 1 }]],
    ['in-root symlink used as a parent', async (s) => [{ p: 'd', t: 'd', m: 0o755, mt: 1 }, { p: 'l', t: 'l', tg: 'd', mt: 1 }, await fileEntry(s, 'l/f', Buffer.from('x'))]],
    ['file whose parent is not listed', async (s) => [await fileEntry(s, 'nodir/f', Buffer.from('x'))]],
    ['absurd size', async () => [{ p: 'huge', t: 'f', m: 0o644, mt: 1, s: 2 ** 60, c: [] }]],
    ['chunk list not matching the size', async (s) => [{ ...(await fileEntry(s, 'f', randomBytes(10))), s: CHUNK_SIZE * 3 }]],
    ['bad hash string', async () => [{ p: 'f', t: 'f', m: 0o644, mt: 1, s: 5, c: ['../../../etc/passwd'] }]],
    ['duplicate path', async (s) => [await fileEntry(s, 'f', Buffer.from('x')), await fileEntry(s, 'f', Buffer.from('y'))]],
    ['the reserved state dir', async (s) => [{ p: '.scf-graceful', t: 'd', m: 0o755, mt: 1 }, await fileEntry(s, '.scf-graceful/state-0.json', Buffer.from('{}'))]],
    ['unknown entry type', async () => [{ p: 'dev', t: 'c', m: 0o644, mt: 1 }]],
    ['mode out of range', async (s) => [{ ...(await fileEntry(s, 'f', Buffer.from('x'))), m: 0o170000 }]],
    // each target alone stays inside on its text; the kernel resolves `esc` through `sub/up` (= root) to root's parent
    ['symlink chain out of root (sub/up -> .., esc -> sub/up/..)', async () => [{ p: 'sub', t: 'd', m: 0o755, mt: 1 }, { p: 'sub/up', t: 'l', tg: '..', mt: 1 }, { p: 'esc', t: 'l', tg: 'sub/up/..', mt: 1 }]],
    ['symlink chain out of root, declared before the link it goes through', async () => [{ p: 'a', t: 'l', tg: 'd/x/../outside', mt: 1 }, { p: 'd', t: 'd', m: 0o755, mt: 1 }, { p: 'd/x', t: 'l', tg: '..', mt: 1 }]],
    ['symlink chain two links long', async () => [{ p: 'd', t: 'd', m: 0o755, mt: 1 }, { p: 'd/e', t: 'd', m: 0o755, mt: 1 }, { p: 'd/e/up', t: 'l', tg: '../..', mt: 1 }, { p: 'd/top', t: 'l', tg: 'e/up', mt: 1 }, { p: 'esc', t: 'l', tg: 'd/top/..', mt: 1 }]],
    ['symlink loop', async () => [{ p: 'l1', t: 'l', tg: 'l2', mt: 1 }, { p: 'l2', t: 'l', tg: 'l1/x', mt: 1 }]],
  ]
  for (const [title, build] of cases) {
    it(`${title} -> SCFG_ERR_MANIFEST_INVALID, nothing written anywhere`, async () => {
      const { dir, root, outside } = await sandbox()
      const store = memoryStore()
      await plant(store, 'evil', await build(store, { outside }))
      await expect(createSnapshotter({ store, root, key: 'evil' }).restore()).rejects.toMatchObject({ code: 'SCFG_ERR_MANIFEST_INVALID' })
      await expectNothingOutside(dir, outside)
      expect(await readdir(root)).toEqual([])
    })
  }

  it('not JSON, wrong format, and a malformed ref are refused too', async () => {
    const { root } = await sandbox()
    const store = memoryStore()
    const id = newSnapshotId()
    await store.put(refKey('a'), Buffer.from(JSON.stringify({ manifest: id })))
    await store.put(manifestKey('a', id), Buffer.from('{not json'))
    await expect(createSnapshotter({ store, root, key: 'a' }).restore()).rejects.toMatchObject({ code: 'SCFG_ERR_MANIFEST_INVALID' })
    await plant(store, 'b', [], { format: 'something-else' })
    await expect(createSnapshotter({ store, root, key: 'b' }).restore()).rejects.toMatchObject({ code: 'SCFG_ERR_MANIFEST_INVALID' })
    await store.put(refKey('c'), Buffer.from(JSON.stringify({ manifest: '../../x' })))
    await expect(createSnapshotter({ store, root, key: 'c' }).restore()).rejects.toMatchObject({ code: 'SCFG_ERR_MANIFEST_INVALID' })
    expect(await readdir(root)).toEqual([])
  })

  it('a symlink already on disk where the manifest wants a directory is replaced, never followed', async () => {
    const { dir, root, outside } = await sandbox()
    await symlink(outside, join(root, 'evil'))
    const store = memoryStore()
    await plant(store, 'k', [{ p: 'evil', t: 'd', m: 0o755, mt: 1000 }, await fileEntry(store, 'evil/pwned', Buffer.from('x'))])
    await createSnapshotter({ store, root, key: 'k' }).restore()
    await expectNothingOutside(dir, outside)
    expect(await readFile(join(root, 'evil/pwned'), 'utf8')).toBe('x')
  })

  it('a restored symlink never resolves out of root through a link already on disk: removed, SCFG_ERR_RESTORE_WRITE', async () => {
    const { dir, root, outside } = await sandbox()
    // left by someone else (restore merges): not in the manifest, so the manifest alone looks harmless
    await mkdir(join(root, 'sub'))
    await symlink('..', join(root, 'sub/up'))
    const store = memoryStore()
    await plant(store, 'k', [{ p: 'sub', t: 'd', m: 0o755, mt: 1000 }, { p: 'esc', t: 'l', tg: 'sub/up/..', mt: 1000 }, { p: 'ok', t: 'l', tg: 'sub', mt: 1000 }])
    await expect(createSnapshotter({ store, root, key: 'k' }).restore()).rejects.toMatchObject({ code: 'SCFG_ERR_RESTORE_WRITE', details: { path: 'esc' } })
    await expectNothingOutside(dir, outside)
    expect((await readdir(root)).sort()).toEqual(['ok', 'sub'])
    // what the kernel says about every link left under root
    for (const p of ['ok', 'sub/up']) expect((await realpath(join(root, p))).startsWith(await realpath(root))).toBe(true)
  })

  it('modes from a manifest keep only permission bits: no setuid, setgid or sticky', async () => {
    const { root } = await sandbox()
    const store = memoryStore()
    await plant(store, 'k', [
      { p: 'sticky', t: 'd', m: 0o1777, mt: 1000 },
      { p: 'sgid', t: 'd', m: 0o2755, mt: 1000 },
      { ...(await fileEntry(store, 'suid', Buffer.from('#!/bin/sh\n'))), m: 0o4777 },
      { ...(await fileEntry(store, 'sgid/f', Buffer.from('x'))), m: 0o2755 },
    ])
    await createSnapshotter({ store, root, key: 'k' }).restore()
    const modes = Object.fromEntries(await Promise.all(['sticky', 'sgid', 'suid', 'sgid/f'].map(async (p) => [p, (await lstat(join(root, p))).mode & 0o7777])))
    expect(modes).toEqual({ sticky: 0o777, sgid: 0o755, suid: 0o777, 'sgid/f': 0o755 })
  })

  it('a snapshot leaves out a link that leads out of root through another link; the rest round-trips', async () => {
    const { dir, root } = await sandbox()
    await mkdir(join(root, 'sub'))
    await writeFile(join(root, 'sub/f'), 'f')
    await symlink('..', join(root, 'sub/up'))
    await symlink('sub/up/..', join(root, 'esc'))
    await symlink('sub/up/sub/f', join(root, 'fine'))
    const store = memoryStore()
    const lines: string[] = []
    const logger = { info: () => {}, warn: (m: string) => lines.push(m), error: () => {} }
    await createSnapshotter({ store, root, key: 'k', logger }).snapshot()
    expect(lines.join('\n')).toMatch(/skipping symlink esc -> sub\/up\/\.\./)
    const target = join(dir, 'restored')
    await createSnapshotter({ store, root: target, key: 'k' }).restore()
    expect(Object.keys(await describeTree(target)).sort()).toEqual(['fine', 'sub', 'sub/f', 'sub/up'])
    expect(await readFile(join(target, 'fine'), 'utf8')).toBe('f')
  })

  it('a symlink already on disk at a file path is replaced, its target untouched', async () => {
    const { dir, root, outside } = await sandbox()
    await symlink(join(outside, 'canary'), join(root, 'f'))
    const store = memoryStore()
    await plant(store, 'k', [await fileEntry(store, 'f', Buffer.from('new'))])
    await createSnapshotter({ store, root, key: 'k' }).restore()
    await expectNothingOutside(dir, outside)
    expect(await readFile(join(root, 'f'), 'utf8')).toBe('new')
  })
})

describe('hostile stores', () => {
  it('a chunk whose bytes do not match its hash -> SCFG_ERR_CHUNK_CORRUPT; the old file stays, no temp file left', async () => {
    const { root } = await sandbox()
    await writeFile(join(root, 'f'), 'previous content')
    const store = memoryStore()
    const good = Buffer.from('the real content')
    const entry = await fileEntry(store, 'f', good)
    await store.put(chunkKey(entry.c[0]!), Buffer.from('the evil content')) // same length, other bytes
    await plant(store, 'k', [entry])
    await expect(createSnapshotter({ store, root, key: 'k' }).restore()).rejects.toMatchObject({ code: 'SCFG_ERR_CHUNK_CORRUPT' })
    expect(await readFile(join(root, 'f'), 'utf8')).toBe('previous content')
    expect(await readdir(root)).toEqual(['f'])
  })

  it('a chunk far larger than declared is refused without reading it all', async () => {
    const { root } = await sandbox()
    const store = memoryStore()
    const entry = await fileEntry(store, 'f', Buffer.from('small'))
    await store.put(chunkKey(entry.c[0]!), Buffer.alloc(20 * 1024 * 1024))
    await plant(store, 'k', [entry])
    await expect(createSnapshotter({ store, root, key: 'k' }).restore()).rejects.toMatchObject({ code: 'SCFG_ERR_CHUNK_CORRUPT' })
    expect(await readdir(root)).toEqual([])
  })

  it('a missing chunk -> SCFG_ERR_CHUNK_MISSING', async () => {
    const { root } = await sandbox()
    const store = memoryStore()
    const entry = await fileEntry(store, 'f', Buffer.from('abc'))
    await store.delete(chunkKey(entry.c[0]!))
    await plant(store, 'k', [entry])
    await expect(createSnapshotter({ store, root, key: 'k' }).restore()).rejects.toMatchObject({ code: 'SCFG_ERR_CHUNK_MISSING' })
    expect(await readdir(root)).toEqual([])
  })

  it('a store that throws mid-way through a snapshot: clear error, nothing committed, previous snapshot restorable', async () => {
    const { root, dir } = await sandbox()
    const inner = memoryStore()
    for (let i = 0; i < 30; i++) await writeFile(join(root, `f${i}`), randomBytes(1000))
    const snap = (store: SnapshotStore, r = root) => createSnapshotter({ store, root: r, key: 'k', logger: false })
    const first = await snap(inner).snapshot()
    const before = await describeTree(root)
    for (let i = 0; i < 30; i++) await writeFile(join(root, `f${i}`), randomBytes(1000))
    let puts = 0
    const failing: SnapshotStore = {
      ...inner,
      put: async (key, body, o) => {
        if (key.startsWith('chunks/') && ++puts === 10) throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' })
        return inner.put(key, body, o)
      },
    }
    await expect(snap(failing).snapshot()).rejects.toThrow(/connection reset/)
    expect((await snap(inner).list()).find((s) => s.current)?.id).toBe(first.id)
    await snap(inner, join(dir, 'restored')).restore()
    expect(await describeTree(join(dir, 'restored'))).toEqual(before)
  })

  it('a store that throws mid-way through a restore: clear error, the files already written are whole', async () => {
    const { root, dir } = await sandbox()
    const inner = memoryStore()
    for (let i = 0; i < 30; i++) await writeFile(join(root, `f${i}`), randomBytes(1000 + i))
    await createSnapshotter({ store: inner, root, key: 'k' }).snapshot()
    let gets = 0
    const failing: SnapshotStore = {
      ...inner,
      get: async (key, o) => {
        if (key.startsWith('chunks/') && ++gets === 12) throw Object.assign(new Error('store went away'), { code: 'SCFG_ERR_STORE_UNAVAILABLE' })
        return inner.get(key, o)
      },
    }
    const target = join(dir, 'restored')
    await expect(createSnapshotter({ store: failing, root: target, key: 'k' }).restore()).rejects.toThrow(/store went away/)
    const restored = await describeTree(target)
    const original = await describeTree(root)
    for (const [p, e] of Object.entries(restored)) expect(e.sha).toBe(original[p]!.sha)
    expect(Object.keys(restored).every((p) => !p.includes('.scfg-'))).toBe(true)
  })
})
