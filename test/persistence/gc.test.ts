import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSnapshotter, memoryStore, type SnapshotStore } from '../../src/persistence/index.js'
import { refKey } from '../../src/persistence/layout.js'
import { describeTree, scratch } from './helpers.js'

let base: { dir: string; cleanup(): Promise<void> }
beforeAll(async () => { base = await scratch('scfg-gc-') })
afterAll(async () => { await base.cleanup() })
let n = 0
const freshRoot = async () => {
  const root = join(base.dir, `root-${++n}`)
  await mkdir(root, { recursive: true })
  return root
}
async function count(store: SnapshotStore, prefix: string): Promise<number> {
  let c = 0
  for await (const _ of store.list(prefix)) c++
  return c
}

describe('prune and concurrent writers', () => {
  it('keeps the newest keepLast snapshots and deletes chunks nothing references', async () => {
    const store = memoryStore()
    const root = await freshRoot()
    const snap = createSnapshotter({ store, root, key: 'p' })
    for (let i = 0; i < 4; i++) {
      await writeFile(join(root, 'f'), randomBytes(1000))
      await snap.snapshot()
    }
    expect(await count(store, 'chunks/')).toBe(4)
    const r = await snap.prune({ keepLast: 2 })
    expect(r).toEqual({ deletedManifests: 2, deletedChunks: 2, deletedTemp: 0, swept: true })
    expect((await snap.list()).length).toBe(2)
    const other = await freshRoot()
    await createSnapshotter({ store, root: other, key: 'p' }).restore()
    expect(await describeTree(other)).toEqual(await describeTree(root))
  })

  it('never sweeps chunks of another key', async () => {
    const store = memoryStore()
    const root = await freshRoot()
    await writeFile(join(root, 'f'), 'shared?')
    await createSnapshotter({ store, root, key: 'a' }).snapshot()
    await writeFile(join(root, 'g'), 'only b')
    await createSnapshotter({ store, root, key: 'b' }).snapshot()
    await createSnapshotter({ store, root, key: 'a' }).prune({ keepLast: 1 })
    const other = await freshRoot()
    await createSnapshotter({ store, root: other, key: 'b' }).restore()
    expect(Object.keys(await describeTree(other)).sort()).toEqual(['f', 'g'])
  })

  it('a prune during a running snapshot deletes no chunk (the writer holds a lease); both finish intact', async () => {
    const inner = memoryStore()
    const root = await freshRoot()
    await writeFile(join(root, 'old'), randomBytes(1000))
    const snap = createSnapshotter({ store: inner, root, key: 'race' })
    await snap.snapshot()
    await writeFile(join(root, 'old'), randomBytes(1000)) // the first version's chunk is now unreferenced after pruning
    await snap.snapshot()
    for (let i = 0; i < 10; i++) await writeFile(join(root, `n${i}`), randomBytes(1000))
    let release!: () => void
    const gate = new Promise<void>((r) => { release = r })
    let firstChunkPut = true
    let signalStarted!: () => void
    const started = new Promise<void>((r) => { signalStarted = r })
    const slow: SnapshotStore = {
      ...inner,
      put: async (key, body, o) => {
        if (key.startsWith('chunks/') && firstChunkPut) {
          firstChunkPut = false
          signalStarted()
          await gate
        }
        return inner.put(key, body, o)
      },
    }
    const writing = createSnapshotter({ store: slow, root, key: 'race' }).snapshot()
    await started
    const pruned = await createSnapshotter({ store: inner, root, key: 'race' }).prune({ keepLast: 1 })
    expect(pruned.swept).toBe(false)
    expect(pruned.deletedChunks).toBe(0)
    release()
    await writing
    const other = await freshRoot()
    await createSnapshotter({ store: inner, root: other, key: 'race' }).restore()
    expect(await describeTree(other)).toEqual(await describeTree(root))
    // with no writer left, the next prune sweeps
    expect((await snap.prune({ keepLast: 1 })).swept).toBe(true)
  })

  it('a writer that commits after a newer one keeps its manifest through a prune (out-of-order commits)', async () => {
    const inner = memoryStore()
    const rootB = await freshRoot()
    const rootA = await freshRoot()
    await writeFile(join(rootB, 'b'), randomBytes(2000))
    await writeFile(join(rootA, 'a'), randomBytes(2000))
    await createSnapshotter({ store: inner, root: rootA, key: 'order' }).snapshot()
    // B stops right before its ref write: its manifest is stored, its lease is live
    let release!: () => void
    const gate = new Promise<void>((r) => { release = r })
    let signalAtRef!: () => void
    const atRef = new Promise<void>((r) => { signalAtRef = r })
    const slow: SnapshotStore = {
      ...inner,
      put: async (key, body, o) => {
        if (key === refKey('order')) {
          signalAtRef()
          await gate
        }
        return inner.put(key, body, o)
      },
    }
    const writingB = createSnapshotter({ store: slow, root: rootB, key: 'order' }).snapshot()
    await atRef
    // A starts later (a newer id) and commits first: the head is now A
    await writeFile(join(rootA, 'a2'), randomBytes(2000))
    await createSnapshotter({ store: inner, root: rootA, key: 'order' }).snapshot()
    const pruned = await createSnapshotter({ store: inner, root: rootA, key: 'order' }).prune({ keepLast: 1 })
    expect(pruned).toEqual({ deletedManifests: 0, deletedChunks: 0, deletedTemp: 0, swept: false })
    release()
    await writingB
    // the last commit wins, and what it points at is there
    const other = await freshRoot()
    await createSnapshotter({ store: inner, root: other, key: 'order' }).restore()
    expect(await describeTree(other)).toEqual(await describeTree(rootB))
  })

  it('two writers on one key: each manifest is complete, the last commit wins, restore is one of the two trees', async () => {
    const store = memoryStore()
    const a = await freshRoot()
    const b = await freshRoot()
    for (let i = 0; i < 30; i++) {
      await writeFile(join(a, `f${i}`), randomBytes(2000))
      await writeFile(join(b, `f${i}`), randomBytes(2000))
    }
    const [ra, rb] = await Promise.all([
      createSnapshotter({ store, root: a, key: 'two' }).snapshot(),
      createSnapshotter({ store, root: b, key: 'two' }).snapshot(),
    ])
    const list = await createSnapshotter({ store, root: a, key: 'two' }).list()
    expect(list.map((s) => s.id).sort()).toEqual([ra.id, rb.id].sort())
    const other = await freshRoot()
    await createSnapshotter({ store, root: other, key: 'two' }).restore()
    const got = JSON.stringify(await describeTree(other))
    expect([JSON.stringify(await describeTree(a)), JSON.stringify(await describeTree(b))]).toContain(got)
  })

  it('an aborted snapshot rejects with SCFG_ERR_SNAPSHOT_ABORTED and leaves the previous one current', async () => {
    const store = memoryStore()
    const root = await freshRoot()
    await writeFile(join(root, 'a'), 'a')
    const snap = createSnapshotter({ store, root, key: 'ab' })
    const first = await snap.snapshot()
    await writeFile(join(root, 'b'), 'b')
    const controller = new AbortController()
    const p = snap.snapshot({ signal: controller.signal, onProgress: () => controller.abort(new Error('deadline')) })
    await expect(p).rejects.toMatchObject({ code: 'SCFG_ERR_SNAPSHOT_ABORTED' })
    await expect(snap.snapshot({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'SCFG_ERR_SNAPSHOT_ABORTED' })
    expect((await snap.list()).find((s) => s.current)?.id).toBe(first.id)
  })
})
