import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { startFunction, type FunctionInstance } from 'scf-graceful/testing'
import { waitForLog } from './helpers.js'

let fn: FunctionInstance | undefined
afterEach(async () => fn?.stop())

it('examples/code-function: loops until SIGTERM, runs its hook and returns END', async () => {
  fn = await startFunction({ entry: fileURLToPath(new URL('../../examples/code-function/index.mjs', import.meta.url)), timeoutMs: 60_000 })
  const pending = fn.invoke({})
  await waitForLog(fn, 'sleep: 1')
  fn.signal('SIGTERM')
  await expect(pending).resolves.toBe('END')
  const lines = fn.logs.map((l) => l.line)
  expect(lines).toContain('do something before shutdown (SIGTERM)')
  expect(lines.some((l) => /^Graceful shutdown after \d+ rounds: SIGTERM$/.test(l))).toBe(true)
})
