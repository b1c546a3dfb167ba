import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { startFunction, type FunctionInstance } from '../../src/testing/index.js'
import { fixture, waitForLog } from './helpers.js'

let fn: FunctionInstance | undefined
let storeDir: string | undefined
afterEach(async () => {
  await fn?.stop()
  if (storeDir) await rm(storeDir, { recursive: true, force: true })
})

it('periodic checkpoints resume after a graceful SIGTERM in a process that lives on', async () => {
  storeDir = await mkdtemp(join(tmpdir(), 'scfg-rearm-'))
  fn = await startFunction({ entry: fixture('periodic.cjs'), env: { STORE_DIR: storeDir }, timeoutMs: 60_000 })
  const first = fn.invoke({ run: 1, rounds: 10_000 })
  await waitForLog(fn, /persist: checkpoint done/)
  fn.signal('SIGTERM')
  await expect(first).resolves.toMatchObject({ run: 1 })
  await waitForLog(fn, /persist: flush done/)

  const mark = fn.logs.length
  const second = fn.invoke({ run: 2, rounds: 40 }) // ~800 ms of work: several checkpoint intervals
  await expect(second).resolves.toEqual({ run: 2, n: 40 })
  const after = fn.logs.slice(mark).map((l) => l.line)
  expect(after.filter((l) => /persist: checkpoint done/.test(l)).length).toBeGreaterThanOrEqual(1)
})
