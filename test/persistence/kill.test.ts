// SIGKILL a real snapshotting child process at many moments: a restore must always give exactly the old tree or
// exactly the new one. Needs the build (the fixture imports 'scf-graceful/persistence' by name).
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHUNK_SIZE, createSnapshotter } from '../../src/persistence/index.js'
import { fsStore } from '../../src/stores/fs.js'
import { describeTree, scratch, type TreeEntry } from './helpers.js'
import { distBuilt } from '../setup/built.js'

const here = dirname(fileURLToPath(import.meta.url))
const fixture = join(here, 'fixtures/snapshot-tree.mjs')
// the fixture imports the package by name
const built = distBuilt('test/persistence/kill.test.ts', 'persistence.js')

let base: { dir: string; cleanup(): Promise<void> }
beforeAll(async () => { base = await scratch('scfg-kill-') })
afterAll(async () => { await base.cleanup() })

async function makeTree(root: string, seed: string) {
  await mkdir(join(root, 'sub/deeper'), { recursive: true })
  await mkdir(join(root, `only-${seed}`), { recursive: true })
  await writeFile(join(root, 'big.bin'), randomBytes(3 * CHUNK_SIZE + 999))
  for (let i = 0; i < 60; i++) await writeFile(join(root, i % 2 ? 'sub' : 'sub/deeper', `f${i}-${seed}`), randomBytes(1000 + i * 97))
  await writeFile(join(root, 'same-name'), `version ${seed}`)
}

interface Run { killed: boolean; readyAt: number; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> }

function runChild(root: string, storeDir: string, key: string, killAfterReadyMs?: number): Run {
  const child = spawn(process.execPath, [fixture, root, storeDir, key], { stdio: ['ignore', 'pipe', 'inherit'] })
  const run: Run = { killed: false, readyAt: 0, exit: undefined as never }
  let out = ''
  run.exit = new Promise((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d
      if (!run.readyAt && out.includes('ready\n')) {
        run.readyAt = Date.now()
        if (killAfterReadyMs !== undefined) {
          setTimeout(() => {
            run.killed = child.kill('SIGKILL')
          }, killAfterReadyMs)
        }
      }
    })
    child.on('close', (code, signal) => resolve({ code, signal, out }))
  })
  return run
}

describe.skipIf(!built)('SIGKILL during a snapshot', () => {
  it('restore yields exactly the old or the new tree at 20+ kill moments', async () => {
    const rootOld = join(base.dir, 'old')
    const rootNew = join(base.dir, 'new')
    await makeTree(rootOld, 'old')
    await makeTree(rootNew, 'new')
    const treeOld = await describeTree(rootOld)
    const treeNew = await describeTree(rootNew)

    // calibrate: how long one full child snapshot of the new tree takes on this machine
    const calStore = join(base.dir, 'cal-store')
    const cal = await runChild(rootNew, calStore, 'cal').exit
    expect(cal.code).toBe(0)
    const duration = Number(/done (\d+)/.exec(cal.out)?.[1] ?? 200)
    await rm(calStore, { recursive: true, force: true })

    const outcomes: string[] = []
    let killedMidway = 0
    for (let i = 0; killedMidway < 24 && i < 60; i++) {
      const storeDir = join(base.dir, `store-${i}`)
      const key = `kill/${i}`
      // the previous snapshot: the old tree, committed in this process
      await createSnapshotter({ store: fsStore({ dir: storeDir }), root: rootOld, key, logger: false }).snapshot()
      // kill moments spread over the child's whole snapshot, commit included
      const delay = Math.round(((i % 24) / 23) * duration * 1.1)
      const result = await runChild(rootNew, storeDir, key, delay).exit
      if (result.signal === 'SIGKILL') killedMidway++
      const target = join(base.dir, `restored-${i}`)
      await createSnapshotter({ store: fsStore({ dir: storeDir }), root: target, key, logger: false }).restore()
      const got: Record<string, TreeEntry> = await describeTree(target)
      const which = JSON.stringify(got) === JSON.stringify(treeOld) ? 'old' : JSON.stringify(got) === JSON.stringify(treeNew) ? 'new' : 'MIXED'
      outcomes.push(`${delay}ms:${result.signal ?? `exit ${result.code}`}:${which}`)
      expect(which, `kill after ${delay} ms gave a tree that is neither old nor new`).not.toBe('MIXED')
      await rm(target, { recursive: true, force: true })
      await rm(storeDir, { recursive: true, force: true })
    }
    console.log(`kill test (snapshot ~${duration} ms): ${outcomes.join(' ')}`)
    expect(killedMidway).toBeGreaterThanOrEqual(20)
  }, 300_000)
})
