// A root on a slow disk (a network mount): the walk and the restore call the file system synchronously while it is
// fast, and move to the thread pool once three calls (or batches) in a row were slow, so that one slow call blocks a
// pool thread rather than the event loop. The slowness is injected into the real calls: node:fs's own function is
// wrapped (a real sleep, then the real syscall) and syncBuiltinESMExports() makes the engine's named imports see it.
import fs from 'node:fs'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createSnapshotter } from '../../src/persistence/index.js'
import { syncWhileFast } from '../../src/persistence/util.js'
import { fsStore } from '../../src/stores/fs.js'
import { captureLogger, describeTree, useCases } from './helpers.js'

const newCase = useCases('scfg-slow-disk-')
const sleeper = new Int32Array(new SharedArrayBuffer(4))
const sleep = (ms: number) => Atomics.wait(sleeper, 0, 0, ms)

type FsName = 'writeSync' | 'lstatSync' | 'write' | 'read' | 'readSync'
const patched: Array<() => void> = []
afterEach(() => {
  for (const undo of patched.splice(0).reverse()) undo()
  syncBuiltinESMExports()
})

/** Where a call's first argument (a path, or a descriptor: through /proc) points. */
const target = (arg: unknown): string => (typeof arg === 'number' ? fs.readlinkSync(`/proc/self/fd/${arg}`) : String(arg))

/**
 * Wraps node:fs's `name`: counts its calls on paths under `dir` (not the store's own, say), and sleeps `ms` before
 * each of those when given.
 */
function watch(name: FsName, dir: string, ms = 0): { calls: number } {
  const mutable = fs as unknown as Record<FsName, (...args: unknown[]) => unknown>
  const original = mutable[name]
  const counter = { calls: 0 }
  mutable[name] = (...args: unknown[]) => {
    if (target(args[0]).startsWith(dir)) {
      counter.calls++
      if (ms > 0) sleep(ms)
    }
    return original(...args)
  }
  patched.push(() => {
    mutable[name] = original
  })
  syncBuiltinESMExports()
  return counter
}

describe('syncWhileFast', () => {
  it('stays synchronous through fast calls and single slow ones; three slow in a row switch it for good, once', () => {
    let switched = 0
    const disk = syncWhileFast(5, 3, () => switched++)
    for (let i = 0; i < 20; i++) disk.timed(() => i)
    // slow, slow, fast: the run of slow calls starts over
    disk.timed(() => sleep(8))
    disk.timed(() => sleep(8))
    disk.timed(() => 0)
    disk.timed(() => sleep(8))
    expect(disk.sync).toBe(true)
    expect(switched).toBe(0)
    disk.timed(() => sleep(8))
    // a call that throws counts too (a mount timing out throws after its wait)
    expect(() => disk.timed(() => {
      sleep(8)
      throw new Error('EIO')
    })).toThrow('EIO')
    expect(disk.sync).toBe(false)
    disk.timed(() => sleep(8))
    disk.timed(() => sleep(8))
    disk.timed(() => sleep(8))
    expect(switched).toBe(1)
  })

  it('returns what the call returns', () => {
    expect(syncWhileFast(5, 3).timed(() => 'value')).toBe('value')
  })
})

describe('restore on a slow disk', () => {
  async function snapshotted() {
    const c = await newCase()
    // five chunks in one file, a few small files beside it
    await writeFile(join(c.root, 'big.bin'), randomBytes(4 * 1024 * 1024 * 4 + 12345))
    for (let i = 0; i < 3; i++) await writeFile(join(c.root, `small-${i}.txt`), `small ${i}\n`)
    const store = fsStore({ dir: c.storeDir })
    await createSnapshotter({ store, root: c.root, key: 'k', logger: false }).snapshot()
    return { ...c, store }
  }

  it('writes with synchronous calls while the disk is fast', async () => {
    // small files only: a busy machine cannot make three writes of a few bytes in a row take 20 ms each
    const c = await newCase()
    for (let i = 0; i < 6; i++) await writeFile(join(c.root, `small-${i}.txt`), `small ${i}\n`)
    const store = fsStore({ dir: c.storeDir })
    await createSnapshotter({ store, root: c.root, key: 'k', logger: false }).snapshot()
    const writeSync = watch('writeSync', c.restored)
    const write = watch('write', c.restored)
    const logger = captureLogger()
    await createSnapshotter({ store, root: c.restored, key: 'k', logger }).restore()
    expect(await describeTree(c.restored)).toEqual(await describeTree(c.root))
    expect(writeSync.calls).toBe(6)
    expect(write.calls).toBe(0)
    expect(logger.lines.filter((l) => l.includes('slow'))).toEqual([])
  })

  it('moves its writes to the thread pool after three slow ones in a row, says so once, and restores the same tree', async () => {
    const c = await snapshotted()
    // 25 ms per write: past the 20 ms budget of a synchronous call
    const writeSync = watch('writeSync', c.restored, 25)
    const write = watch('write', c.restored)
    const logger = captureLogger()
    await createSnapshotter({ store: c.store, root: c.restored, key: 'k', logger }).restore()
    expect(await describeTree(c.restored)).toEqual(await describeTree(c.root))
    // three, or fewer if a busy machine made another call of the run slow too; every data write after is on the pool
    expect(writeSync.calls).toBeGreaterThanOrEqual(1)
    expect(writeSync.calls).toBeLessThanOrEqual(3)
    expect(write.calls).toBe(8 - writeSync.calls)
    expect(logger.lines.filter((l) => l.includes('is slow'))).toHaveLength(1)
    expect(logger.lines.find((l) => l.includes('is slow'))).toMatch(/^warn restore: writing to .* is slow/)
  })
})

describe('snapshot on a slow disk', () => {
  it('walks, then reads the files on the thread pool, once three lstat batches in a row were slow', async () => {
    const c = await newCase()
    for (let i = 0; i < 200; i++) await writeFile(join(c.root, `f-${String(i).padStart(3, '0')}.txt`), `file ${i}\n`)
    const store = fsStore({ dir: c.storeDir })
    // 1 ms per lstat: a batch of 32 takes 32 ms, past the walk's 4 ms budget per batch
    const lstatSync = watch('lstatSync', c.root, 1)
    const readSync = watch('readSync', c.root)
    const read = watch('read', c.root)
    await createSnapshotter({ store, root: c.root, key: 'k', logger: false }).snapshot()
    // three batches of 32 synchronously, the rest of the walk on the thread pool
    expect(lstatSync.calls).toBe(96)
    expect(readSync.calls).toBe(0)
    expect(read.calls).toBe(200)
    await createSnapshotter({ store, root: c.restored, key: 'k', logger: false }).restore()
    expect(await describeTree(c.restored)).toEqual(await describeTree(c.root))
  })

  it('reads synchronously while the disk is fast', async () => {
    const c = await newCase()
    // two lstat batches: even a busy machine cannot make three in a row slow
    for (let i = 0; i < 64; i++) await writeFile(join(c.root, `f-${String(i).padStart(3, '0')}.txt`), `file ${i}\n`)
    const readSync = watch('readSync', c.root)
    const read = watch('read', c.root)
    await createSnapshotter({ store: fsStore({ dir: c.storeDir }), root: c.root, key: 'k', logger: false }).snapshot()
    expect(readSync.calls).toBe(64)
    expect(read.calls).toBe(0)
  })
})
