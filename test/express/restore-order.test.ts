// An image deployment listens at once, whatever its start-up restore does: SCF gives the container 30 s to listen on
// :9000 (else 446), and a restore from a far or failing store can take longer. Events that arrive meanwhile wait for
// the restore, and a SIGTERM during it behaves as for any in-flight invocation. Real child processes (the harness's
// image mode, which fails a start that does not listen within SCF's 30 s), a real fs store behind faultStore.
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createSnapshotter, type SnapshotStore } from '../../src/persistence/index.js'
import { fsStore } from '../../src/stores/fs.js'
import { count, invocationFailure, lines, useInstances, waitForLog } from '../core/helpers.js'
import { tempDir } from '../setup/store-tests.js'

// the image function of the restore-failure tests: its store (test/core/fixtures/restore-store.mjs) takes FAULT=delay
// (every chunk read waits DELAY_MS) and FAULT=hang (every chunk read hangs until the restore is aborted)
const IMAGE = fileURLToPath(new URL('../core/fixtures/restore-image.mjs', import.meta.url))
const FILES = ['f00', 'f01', 'f02', 'f03']

/** A good snapshot of FILES under the fixture's key ('flaky') in a fresh fs store. */
async function seededStore(): Promise<{ dir: string; store: SnapshotStore; current: string }> {
  const src = await tempDir('order-src')
  for (const name of FILES) await writeFile(join(src, name), randomBytes(1000))
  const dir = await tempDir('order-store')
  const store = fsStore({ dir })
  await createSnapshotter({ store, root: src, key: 'flaky' }).snapshot()
  return { dir, store, current: await currentSnapshot(store) }
}

const currentSnapshot = async (store: SnapshotStore) => (await createSnapshotter({ store, root: '/nonexistent', key: 'flaky' }).list()).find((s) => s.current)!.id

const indexOf = (all: string[], pattern: RegExp) => all.findIndex((l) => pattern.test(l))

const start = useInstances({ timeoutMs: 60_000 })

describe('serveEventFunction with persist: listening does not wait for the start-up restore', () => {
  it('the port accepts while the restore still runs; an event sent then is answered only once the restore is done, with every file back', async () => {
    const { dir } = await seededStore()
    // every chunk read waits 2 s: the restore cannot be over when the server listens
    const fn = await start(IMAGE, { mode: 'image', env: { STORE: 'fs', STORE_DIR: dir, FAULT: 'delay', DELAY_MS: '2000' } })
    // start() returned: the port accepts connections. The restore has not finished (today it had to, first)
    expect(lines(fn).some((l) => /persist: restore done/.test(l))).toBe(false)

    const answer = await fn.invoke({})
    expect(answer).toEqual({ files: FILES, shouldStop: false })
    const all = lines(fn)
    const listening = indexOf(all, /listening /)
    const restored = indexOf(all, /persist: restore done .*files=4/)
    const ran = indexOf(all, /handler ran/)
    expect(listening).toBeGreaterThanOrEqual(0)
    expect(restored).toBeGreaterThan(listening)
    expect(ran).toBeGreaterThan(restored)
    expect(count(fn, /persist: restore start/)).toBe(1)
    expect(indexOf(all, /invocation waits for the start-up restore/)).toBeLessThan(restored)
  })

  it('SIGTERM while the restore hangs: the waiting event settles as stopped within graceMs, its handler never runs, nothing is committed, the process exits 0', async () => {
    const { dir, store, current } = await seededStore()
    const fn = await start(IMAGE, { mode: 'image', env: { STORE: 'fs', STORE_DIR: dir, FAULT: 'hang', GRACE_MS: '2000' } })
    const pending = fn.invoke({})
    // the event reached the server and waits: the restore started at process start, before it
    await waitForLog(fn, /invocation waits for the start-up restore/)
    fn.signal('SIGTERM')
    const err = await invocationFailure(pending)
    expect(err.errorType).toBe('ShutdownError')
    const exit = await fn.exited
    expect(exit).toEqual({ code: 0, signal: null })
    expect(count(fn, /handler ran/)).toBe(0)
    expect(lines(fn).some((l) => /persist: flush refused/.test(l))).toBe(true)
    expect(await currentSnapshot(store)).toBe(current)
  })
})
