// Files that change under a running snapshot. The hooks run at exact moments (after the walk saw a file, while a
// chunk of it is being stored), so these tests are deterministic.
import { randomBytes } from 'node:crypto'
import { appendFileSync, rmSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CHUNK_SIZE, createSnapshotter, memoryStore, type SnapshotStore } from '../../src/persistence/index.js'
import { captureLogger, describeTree, useCases } from './helpers.js'

const fresh = useCases()

/** Calls `onPut` before each chunk put (the file being read is mid-read at that moment). */
function hookedStore(onPut: () => void): SnapshotStore {
  const inner = memoryStore()
  return { ...inner, kind: 'hooked', put: async (key, body, o) => { if (key.startsWith('chunks/')) onPut(); return inner.put(key, body, o) } }
}

describe('a tree that changes during the snapshot', () => {
  it('a file that vanishes after the walk saw it is left out with a warning; the snapshot commits', async () => {
    const { root, restored } = await fresh()
    await writeFile(join(root, 'stays'), 'a')
    await writeFile(join(root, 'goes'), 'b')
    const logger = captureLogger()
    const store = memoryStore()
    // include runs right after the walk stat()ed the file: removing it there = it vanishes before it is read
    const include = (p: string) => {
      if (p === 'goes') rmSync(join(root, 'goes'))
      return true
    }
    const r = await createSnapshotter({ store, root, key: 'v', include, logger }).snapshot()
    expect(r.files).toBe(1)
    expect(logger.lines.some((l) => l.startsWith('warn') && l.includes('goes vanished'))).toBe(true)
    await createSnapshotter({ store, root: restored, key: 'v' }).restore()
    expect(Object.keys(await describeTree(restored))).toEqual(['stays'])
  })

  it('a file that grows once while read is read again: the snapshot holds one consistent version', async () => {
    const { root, restored } = await fresh()
    const path = join(root, 'log')
    await writeFile(path, randomBytes(CHUNK_SIZE + 10))
    let grown = false
    const store = hookedStore(() => {
      if (!grown) {
        grown = true
        appendFileSync(path, 'APPENDED')
      }
    })
    const r = await createSnapshotter({ store, root, key: 'g' }).snapshot()
    expect(r.bytes).toBe(CHUNK_SIZE + 10 + 8)
    await createSnapshotter({ store, root: restored, key: 'g' }).restore()
    expect((await readFile(join(restored, 'log'))).equals(await readFile(path))).toBe(true)
  })

  it('a file that keeps growing fails with SCFG_ERR_SNAPSHOT_SOURCE_CHANGED and commits nothing', async () => {
    const { root, restored } = await fresh()
    const path = join(root, 'busy')
    await writeFile(join(root, 'other'), 'o')
    await writeFile(path, randomBytes(100))
    const store = hookedStore(() => appendFileSync(path, randomBytes(16)))
    const snap = createSnapshotter({ store, root, key: 'grow' })
    await expect(snap.snapshot()).rejects.toMatchObject({ code: 'SCFG_ERR_SNAPSHOT_SOURCE_CHANGED' })
    expect(await snap.list()).toEqual([])
    await expect(createSnapshotter({ store, root: restored, key: 'grow' }).restore()).rejects.toMatchObject({ code: 'SCFG_ERR_SNAPSHOT_NOT_FOUND' })
  })
})
