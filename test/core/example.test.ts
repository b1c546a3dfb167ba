import { fileURLToPath } from 'node:url'
import { afterEach, expect, it, onTestFinished } from 'vitest'
import { startFunction, type FunctionInstance } from '../../src/testing/index.js'
import { unpackedZip } from '../runtimes/binaries.js'
import { waitForLog } from './helpers.js'

let fn: FunctionInstance | undefined
afterEach(async () => fn?.stop())

it('examples/code-function: loops until SIGTERM, runs its hook and returns END', async () => {
  // the folder as its deployment zip has it (node_modules included), loaded by SCF's handler string
  const zip = await unpackedZip(fileURLToPath(new URL('../../examples/code-function', import.meta.url)))
  onTestFinished(() => zip.remove())
  fn = await startFunction({ entry: zip.dir, handler: 'index.main_handler', timeoutMs: 60_000 })
  const pending = fn.invoke({})
  await waitForLog(fn, 'sleep: 1')
  fn.signal('SIGTERM')
  await expect(pending).resolves.toBe('END')
  const lines = fn.logs.map((l) => l.line)
  expect(lines).toContain('do something before shutdown (SIGTERM)')
  expect(lines.some((l) => /^Graceful shutdown after \d+ rounds: SIGTERM$/.test(l))).toBe(true)
})
