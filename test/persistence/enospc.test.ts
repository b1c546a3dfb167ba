// A real full disk: a 1 MiB tmpfs mounted by the test (needs root). Without root the test is skipped loudly
// (and fails under CI=true): a fake ENOSPC would not prove anything about the real syscalls.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSnapshotter, memoryStore } from '../../src/persistence/index.js'
import { fsStore } from '../../src/stores/fs.js'
import { describeTree, scratch } from './helpers.js'

let base: { dir: string; cleanup(): Promise<void> }
const mounts: string[] = []
let canMount = false

async function tinyDisk(name: string): Promise<string> {
  const dir = join(base.dir, name)
  await mkdir(dir, { recursive: true })
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir])
  mounts.push(dir)
  return dir
}

beforeAll(async () => {
  base = await scratch('scfg-enospc-')
  try {
    await tinyDisk('probe')
    canMount = true
  } catch {
    const message = 'enospc.test.ts: cannot mount a tmpfs (not root?); the ENOSPC tests are SKIPPED'
    if (process.env.CI === 'true') throw new Error(message)
    console.warn(`SKIPPED ${message}`)
  }
})
afterAll(async () => {
  for (const dir of mounts.reverse()) {
    try {
      execFileSync('umount', [dir])
    } catch {
      // already gone
    }
  }
  await base.cleanup()
})

describe('ENOSPC', () => {
  it('during restore: SCFG_ERR_RESTORE_WRITE (errno ENOSPC), no temp file left, every file in place is whole', async (ctx) => {
    if (!canMount) return ctx.skip()
    const root = join(base.dir, 'src')
    await mkdir(root)
    // 6 x 300 KiB = 1.8 MiB into a 1 MiB disk
    for (let i = 0; i < 6; i++) await writeFile(join(root, `f${i}`), randomBytes(300 * 1024))
    const store = memoryStore()
    await createSnapshotter({ store, root, key: 'full', logger: false }).snapshot()
    const target = await tinyDisk('restore-disk')
    const err = await createSnapshotter({ store, root: target, key: 'full', concurrency: 1, logger: false }).restore().catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'SCFG_ERR_RESTORE_WRITE', details: { errno: 'ENOSPC' } })
    const names = await readdir(target)
    expect(names.filter((n) => n.startsWith('.scfg-'))).toEqual([])
    const original = await describeTree(root)
    const restored = await describeTree(target)
    expect(Object.keys(restored).length).toBeGreaterThan(0)
    for (const [p, e] of Object.entries(restored)) expect(e.sha, p).toBe(original[p]!.sha)
  })

  it('in the store during a snapshot: a store error, nothing committed, the previous snapshot intact', async (ctx) => {
    if (!canMount) return ctx.skip()
    const root = join(base.dir, 'src2')
    await mkdir(root)
    await writeFile(join(root, 'small'), 'v1')
    const storeDir = await tinyDisk('store-disk')
    const snap = createSnapshotter({ store: fsStore({ dir: storeDir }), root, key: 'k', logger: false })
    const first = await snap.snapshot()
    for (let i = 0; i < 6; i++) await writeFile(join(root, `f${i}`), randomBytes(300 * 1024))
    await expect(snap.snapshot()).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_UNAVAILABLE' })
    expect((await snap.list()).find((s) => s.current)?.id).toBe(first.id)
    const target = join(base.dir, 'restored2')
    await createSnapshotter({ store: fsStore({ dir: storeDir }), root: target, key: 'k', logger: false }).restore()
    expect(Object.keys(await describeTree(target))).toEqual(['small'])
  })
})
