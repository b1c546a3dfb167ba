import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPersistenceRuntime, createSnapshotter, memoryStore, type SnapshotStore } from '../../src/persistence/index.js'
import { captureLogger, describeTree, scratch } from './helpers.js'
import { faultStore } from '../setup/faults.mjs'
import { timerTicks, waitFor } from '../setup/wait.js'

let base: { dir: string; cleanup(): Promise<void> }
beforeAll(async () => { base = await scratch('scfg-runtime-') })
afterAll(async () => { await base.cleanup() })
let n = 0
const freshRoot = async () => {
  const root = join(base.dir, `root-${++n}`)
  await mkdir(root, { recursive: true })
  return root
}

/** Counts manifest writes (one per committed or attempted snapshot) and can slow chunk puts down. */
function countingStore(slowMs = 0): SnapshotStore & { manifests: number } {
  const inner = memoryStore()
  const s = {
    ...inner,
    manifests: 0,
    put: async (key: string, body: Parameters<SnapshotStore['put']>[1], o?: Parameters<SnapshotStore['put']>[2]) => {
      if (key.includes('/_manifests/')) s.manifests++
      if (slowMs && key.startsWith('chunks/')) await new Promise((r) => setTimeout(r, slowMs))
      return inner.put(key, body, o)
    },
  }
  return s
}

describe('createPersistenceRuntime', () => {
  it('validates options with SCFG_ERR_INVALID_OPTION', () => {
    const logger = captureLogger()
    const bad = (o: object) => expect(() => createPersistenceRuntime(o as never, { logger })).toThrow(expect.objectContaining({ code: 'SCFG_ERR_INVALID_OPTION' }))
    bad({})
    bad({ store: memoryStore(), checkpointIntervalMs: -1 })
    bad({ store: memoryStore(), restoreOnStart: 'yes' })
    bad({ store: memoryStore(), key: '/abs' })
    bad({ store: memoryStore(), onRestoreError: 'ignore' })
  })

  it('restore runs once per process; nothing to restore is fine and logged', async () => {
    const logger = captureLogger()
    const rt = createPersistenceRuntime({ store: memoryStore(), root: await freshRoot(), key: 'a' }, { logger })
    const p1 = rt.restore()
    expect(rt.restore()).toBe(p1)
    await p1
    expect(logger.lines.some((l) => l.includes('nothing to restore'))).toBe(true)
  })

  it('checkpoint then a new runtime restores the tree; one log line per phase with files, bytes, ms', async () => {
    const store = memoryStore()
    const root = await freshRoot()
    await writeFile(join(root, 'state.json'), '{"step":3}')
    const logger = captureLogger()
    await createPersistenceRuntime({ store, root, key: 'job/1' }, { logger }).checkpoint()
    const other = await freshRoot()
    const logger2 = captureLogger()
    await createPersistenceRuntime({ store, root: other, key: 'job/1' }, { logger: logger2 }).restore()
    expect(await readFile(join(other, 'state.json'), 'utf8')).toBe('{"step":3}')
    expect(logger.lines.find((l) => l.includes('checkpoint done'))).toMatch(/files=1 bytes=10 .*ms=\d+/)
    expect(logger2.lines.find((l) => l.includes('restore done'))).toMatch(/files=1 bytes=10 ms=\d+/)
  })

  it('restoreOnStart: false restores nothing', async () => {
    const store = memoryStore()
    const root = await freshRoot()
    await writeFile(join(root, 'x'), 'x')
    await createSnapshotter({ store, root, key: 'k' }).snapshot()
    const other = await freshRoot()
    await createPersistenceRuntime({ store, root: other, key: 'k', restoreOnStart: false }, { logger: captureLogger() }).restore()
    expect(await describeTree(other)).toEqual({})
  })

  it('checkpoints never overlap; calls during one coalesce into a single follow-up', async () => {
    const store = countingStore(20)
    const root = await freshRoot()
    for (let i = 0; i < 5; i++) await writeFile(join(root, `f${i}`), randomBytes(100))
    const logger = captureLogger()
    const rt = createPersistenceRuntime({ store, root, key: 'c' }, { logger })
    const first = rt.checkpoint()
    const followers = [rt.checkpoint(), rt.checkpoint(), rt.checkpoint()]
    expect(followers[0]).toBe(followers[1])
    await Promise.all([first, ...followers])
    const done = logger.lines.filter((l) => l.includes('checkpoint done'))
    expect(done).toHaveLength(2)
    // the follow-up found the tree as the first one left it: the same snapshot, nothing written again
    expect(store.manifests).toBe(1)
    expect(new Set(done.map((l) => /id=(\S+)/.exec(l)![1])).size).toBe(1)
  })

  it('flush waits for a running checkpoint, then snapshots the latest state', async () => {
    const store = countingStore(10)
    const root = await freshRoot()
    await writeFile(join(root, 'a'), 'one')
    const rt = createPersistenceRuntime({ store, root, key: 'f' }, { logger: captureLogger() })
    const running = rt.checkpoint()
    await writeFile(join(root, 'a'), 'two')
    await rt.flush(AbortSignal.timeout(10_000))
    await running
    const other = await freshRoot()
    await createSnapshotter({ store, root: other, key: 'f' }).restore()
    expect(await readFile(join(other, 'a'), 'utf8')).toBe('two')
  })

  it('flush aborted by its deadline: SCFG_ERR_SNAPSHOT_ABORTED, the previous snapshot intact', async () => {
    const store = countingStore(200)
    const root = await freshRoot()
    await writeFile(join(root, 'a'), 'first')
    const rt = createPersistenceRuntime({ store, root, key: 'd' }, { logger: captureLogger() })
    await rt.checkpoint()
    for (let i = 0; i < 20; i++) await writeFile(join(root, `new-${i}`), randomBytes(1000))
    await expect(rt.flush(AbortSignal.timeout(100))).rejects.toMatchObject({ code: 'SCFG_ERR_SNAPSHOT_ABORTED' })
    const other = await freshRoot()
    await createSnapshotter({ store, root: other, key: 'd' }).restore()
    expect(Object.keys(await describeTree(other))).toEqual(['a'])
  })

  it('a flush during the start-up restore waits for it: a half-restored tree is never committed', async () => {
    const inner = memoryStore()
    const src = await freshRoot()
    for (let i = 0; i < 10; i++) await writeFile(join(src, `f${i}`), randomBytes(500))
    await createSnapshotter({ store: inner, root: src, key: 'r' }).snapshot()
    const slowGets: SnapshotStore = {
      ...inner,
      get: async (key, o) => {
        if (key.startsWith('chunks/')) await new Promise((r) => setTimeout(r, 30))
        return inner.get(key, o)
      },
    }
    const root = await freshRoot()
    const rt = createPersistenceRuntime({ store: slowGets, root, key: 'r' }, { logger: captureLogger() })
    const restoring = rt.restore()
    await rt.flush(AbortSignal.timeout(20_000))
    await restoring
    const check = await freshRoot()
    await createSnapshotter({ store: inner, root: check, key: 'r' }).restore()
    expect(await describeTree(check)).toEqual(await describeTree(src))
  })

  it('startInterval takes periodic checkpoints; stopInterval stops them', async () => {
    const store = countingStore()
    const root = await freshRoot()
    await writeFile(join(root, 'a'), 'a')
    const logger = captureLogger()
    const checkpoints = () => logger.lines.filter((l) => l.includes('checkpoint done')).length
    const rt = createPersistenceRuntime({ store, root, key: 'i', checkpointIntervalMs: 30 }, { logger })
    rt.startInterval()
    const starts = () => logger.lines.filter((l) => l.includes('checkpoint start')).length
    await waitFor(() => checkpoints() >= 2, { what: () => `two interval checkpoints; logs:\n${logger.lines.join('\n')}` })
    rt.stopInterval()
    // a checkpoint that started before stopInterval may still finish: let it, then nothing more may come
    await rt.flush(AbortSignal.timeout(20_000))
    const count = checkpoints()
    const started = starts()
    expect(count).toBeGreaterThanOrEqual(2)
    // ten ticks of a 30 ms witness: a live 30 ms interval would have started ten more checkpoints by then
    await timerTicks(30, 10)
    expect(starts()).toBe(started)
    expect(checkpoints()).toBe(count)
  })

  it('a failed restore is retried 3 times, then refused to be snapshotted; the next restore() tries again', async () => {
    const inner = memoryStore()
    const src = await freshRoot()
    for (let i = 0; i < 6; i++) await writeFile(join(src, `f${i}`), randomBytes(300))
    await createSnapshotter({ store: inner, root: src, key: 'flaky' }).snapshot()
    const good = await createSnapshotter({ store: inner, root: src, key: 'flaky' }).list()
    const store = faultStore(inner, [{ op: ['get', 'readInto'], key: 'chunks/', after: 2, action: 'fail' }])
    const root = await freshRoot()
    const logger = captureLogger()
    const rt = createPersistenceRuntime({ store, root, key: 'flaky', checkpointIntervalMs: 10 }, { logger })
    const err = await rt.restore().then(() => undefined, (e: unknown) => e)
    expect(err).toMatchObject({ code: 'SCFG_ERR_RESTORE_FAILED', cause: expect.objectContaining({ injected: true }) })
    expect(rt.restoreState).toBe('incomplete')
    expect(logger.lines.filter((l) => l.includes('persist: restore start'))).toHaveLength(3)
    await expect(rt.checkpoint()).rejects.toMatchObject({ code: 'SCFG_ERR_RESTORE_FAILED' })
    await expect(rt.flush(AbortSignal.timeout(5000))).rejects.toMatchObject({ code: 'SCFG_ERR_RESTORE_FAILED' })
    rt.startInterval()
    // a 10 ms interval, had it started, would have ticked five times by the end of five ticks of a 10 ms witness
    await timerTicks(10, 5)
    rt.stopInterval()
    expect(logger.lines.some((l) => /checkpoint (start|done)/.test(l))).toBe(false)
    expect(await createSnapshotter({ store: inner, root: src, key: 'flaky' }).list()).toEqual(good)

    store.setRules([])
    await rt.restore()
    expect(rt.restoreState).toBe('complete')
    expect(await describeTree(root)).toMatchObject(await describeTree(src))
    await rt.checkpoint()
  })

  it("onRestoreError 'start-fresh': the snapshot's paths are removed from root, other files stay, snapshots are allowed", async () => {
    const inner = memoryStore()
    const src = await freshRoot()
    await mkdir(join(src, 'sub'))
    for (let i = 0; i < 6; i++) await writeFile(join(src, 'sub', `f${i}`), randomBytes(300))
    await createSnapshotter({ store: inner, root: src, key: 'fresh' }).snapshot()
    const store = faultStore(inner, [{ op: ['get', 'readInto'], key: 'chunks/', after: 3, action: 'fail' }])
    const root = await freshRoot()
    await writeFile(join(root, 'mine.txt'), 'not from the snapshot')
    const logger = captureLogger()
    const rt = createPersistenceRuntime({ store, root, key: 'fresh', onRestoreError: 'start-fresh' }, { logger })
    await rt.restore()
    expect(rt.restoreState).toBe('fresh')
    expect(Object.keys(await describeTree(root))).toEqual(['mine.txt'])
    await rt.checkpoint()
  })
})
