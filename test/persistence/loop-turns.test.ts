// The synchronous file loops (the walk, the snapshot's reads, the restore's writes) give the event loop a turn at
// least every 10 ms, so a SIGTERM, a deadline or an abort is never held back long: for empty files and directories
// too (no chunk, no lstat batch), and with every lane of a pool sharing one budget.
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSnapshotter } from '../../src/persistence/index.js'
import { loopTurns } from '../../src/persistence/util.js'
import { fsStore } from '../../src/stores/fs.js'
import type { SnapshotStore } from '../../src/persistence/store.js'
import { useCases } from './helpers.js'

const newCase = useCases('scfg-turns-')
const sleeper = new Int32Array(new SharedArrayBuffer(4))
const N = 5000

async function emptyFiles(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (let i = 0; i < N; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => writeFile(join(dir, `f${i + j}`), '')))
}

describe('loopTurns', () => {
  it('lanes sharing one share its budget: one turn for all of them, not a budget each in a row', async () => {
    // a fake clock: each unit of work costs 2 "ms"; the budget is 10, so about 5 units between turns
    let clock = 0
    const turn = loopTurns(10, () => clock)
    let units = 0
    let lastTick = 0
    let most = 0
    let running = true
    // a check-phase ticker: what runs between two of its ticks ran without the event loop getting a turn
    const tick = () => {
      most = Math.max(most, units - lastTick)
      lastTick = units
      if (running) setImmediate(tick)
    }
    setImmediate(tick)
    const lane = async () => {
      for (let i = 0; i < 100; i++) {
        // as the engine checks: right before the step, again after a turn, no other await in between
        for (let due = turn(); due; due = turn()) await due
        clock += 2
        units++
        // an await between steps, as a store call makes
        await Promise.resolve()
      }
    }
    await Promise.all(Array.from({ length: 8 }, lane))
    running = false
    expect(units).toBe(800)
    // one budget (5 units), twice if the ticker's place in the check phase splits it. A setImmediate per lane gave
    // every lane a budget of its own in a row (8 x 5 = 40); lanes resumed from one turn without checking again took
    // a step each on the same check (5 + 8)
    expect(most).toBeLessThanOrEqual(2 * 5)
  })

  it('a plain await gives at most one turn; undefined while the budget lasts', async () => {
    let clock = 0
    const turn = loopTurns(10, () => clock)
    expect(turn()).toBeUndefined()
    clock = 25
    const due = turn()
    expect(due).toBeInstanceOf(Promise)
    // every caller while a turn is due waits for the same one
    expect(turn()).toBe(due)
    await due
    expect(turn()).toBeUndefined()
  })

  it('gives no turn while the budget lasts', async () => {
    let clock = 0
    const turn = loopTurns(10, () => clock)
    let ticked = false
    setImmediate(() => {
      ticked = true
    })
    for (let i = 0; i < 4; i++) {
      clock += 2
      await turn()
    }
    expect(ticked).toBe(false)
    clock += 2
    await turn()
    expect(ticked).toBe(true)
  })
})

/**
 * A 0 ms timer armed at the first file's progress, aborting: `firedAt` is how many files were done when it ran
 * (undefined if it never did).
 */
function abortAtFirstFile() {
  const ac = new AbortController()
  const state: { signal: AbortSignal; firedAt: number | undefined; onProgress(p: { files: number }): void } = {
    signal: ac.signal,
    firedAt: undefined,
    onProgress(p) {
      if (files === 0 && p.files > 0) {
        setTimeout(() => {
          state.firedAt = files
          ac.abort(new Error('deadline'))
        }, 0)
      }
      files = p.files
    },
  }
  let files = 0
  return state
}

describe('empty files and directories get turns too', () => {
  it('restore: a timer armed at the first file runs before the last of 5,000 empty files, and its abort is honoured', async () => {
    const c = await newCase()
    await emptyFiles(join(c.root, 'd'))
    const store = fsStore({ dir: c.storeDir })
    await createSnapshotter({ store, root: c.root, key: 'k', logger: false }).snapshot()
    const deadline = abortAtFirstFile()
    const error = await createSnapshotter({ store, root: c.restored, key: 'k', logger: false }).restore({ signal: deadline.signal, onProgress: deadline.onProgress }).then(() => undefined, (e: unknown) => e)
    expect(deadline.firedAt).toBeDefined()
    expect(deadline.firedAt!).toBeLessThan(N)
    expect(error).toMatchObject({ code: 'SCFG_ERR_SNAPSHOT_ABORTED' })
    // the directory is the restore's own (created by it): what was written is there, and no more
    expect((await readdir(join(c.restored, 'd'))).length).toBeLessThan(N)
  })

  it('snapshot: a timer armed at the first file runs before the last of 5,000 empty files, and its abort leaves no snapshot', async () => {
    const c = await newCase()
    await emptyFiles(c.root)
    const deadline = abortAtFirstFile()
    const snapshotter = createSnapshotter({ store: fsStore({ dir: c.storeDir }), root: c.root, key: 'k', logger: false })
    const error = await snapshotter.snapshot({ signal: deadline.signal, onProgress: deadline.onProgress }).then(() => undefined, (e: unknown) => e)
    expect(deadline.firedAt).toBeDefined()
    expect(deadline.firedAt!).toBeLessThan(N)
    expect(error).toMatchObject({ code: 'SCFG_ERR_SNAPSHOT_ABORTED' })
    await expect(snapshotter.restore()).rejects.toMatchObject({ code: 'SCFG_ERR_SNAPSHOT_NOT_FOUND' })
  })

  it('walk: a timer armed in the first of 5,000 directories runs before the walk reaches the last', async () => {
    const c = await newCase()
    // each directory holds one file the snapshot excludes: the walk calls `exclude` once per directory and, with
    // nothing kept, makes no lstat batch there (the only place it used to give a turn)
    for (let i = 0; i < N; i += 500) {
      await Promise.all(Array.from({ length: 500 }, async (_, j) => {
        const dir = join(c.root, `d${String(i + j).padStart(4, '0')}`)
        await mkdir(dir)
        await writeFile(join(dir, 'skip.me'), '')
      }))
    }
    let seen = 0
    let firedAt: number | undefined
    const exclude = (path: string) => {
      if (!path.endsWith('/skip.me')) return false
      if (seen++ === 0) setTimeout(() => { firedAt = seen }, 0)
      return true
    }
    await createSnapshotter({ store: fsStore({ dir: c.storeDir }), root: c.root, key: 'k', logger: false, exclude }).snapshot()
    expect(seen).toBe(N)
    expect(firedAt).toBeDefined()
    expect(firedAt!).toBeLessThan(N)
  })
})

describe('steps longer than the budget', () => {
  it('restore: one synchronous read between two timer ticks, not one per lane', async () => {
    const c = await newCase()
    // 4 files of 3 chunks: 4 files x 2 chunks in flight = 8 lanes
    for (let i = 0; i < 4; i++) await writeFile(join(c.root, `f${i}`), Buffer.alloc(3 * 4 * 1024 * 1024 - 1000, i + 1))
    const base = fsStore({ dir: c.storeDir })
    await createSnapshotter({ store: base, root: c.root, key: 'k', logger: false }).snapshot()
    // every read takes 15 ms on the calling thread, past the 10 ms budget, like a read into a fresh buffer here
    let reads = 0
    const slow: SnapshotStore = {
      ...base,
      readInto(key, into, options) {
        Atomics.wait(sleeper, 0, 0, 15)
        reads++
        return base.readInto!(key, into, options)
      },
    }
    let most = 0
    let atTick = 0
    const ticker = setInterval(() => {
      most = Math.max(most, reads - atTick)
      atTick = reads
    }, 1)
    try {
      await createSnapshotter({ store: slow, root: c.restored, key: 'k', logger: false }).restore()
    } finally {
      clearInterval(ticker)
    }
    expect(reads).toBe(12)
    // a lane checks right before its read, and again after a turn: one read past the budget, two if a turn comes
    // from the poll phase (its setImmediate then runs before the timers); 8 when every lane took its step on one check
    expect(most).toBeLessThanOrEqual(2)
  })
})
