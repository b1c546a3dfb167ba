import { afterEach, expect, it } from 'vitest'
import { startFunction, type FunctionInstance } from '../../src/testing/index.js'
import { fixture, waitForLog } from './helpers.js'

let fn: FunctionInstance | undefined
afterEach(async () => fn?.stop())

it('a pino logger fits: one JSON line per phase, nothing on the default console logger', async () => {
  fn = await startFunction({ entry: fixture('pino.cjs'), timeoutMs: 30_000 })
  const pending = fn.invoke({})
  await waitForLog(fn, '"msg":"running"')
  fn.signal('SIGTERM')
  await expect(pending).resolves.toBe('ok')
  await waitForLog(fn, 'state=stopped')
  const records = fn.logs.map((l) => JSON.parse(l.line) as { level: number; msg: string })
  expect(records.map((r) => r.msg)).toEqual([
    'running',
    expect.stringMatching(/^shutdown reason=SIGTERM state=stopping inflight=1/),
    expect.stringMatching(/^invocation aborted requestId=\S+ reason=SIGTERM$/),
    expect.stringMatching(/^shutdown reason=SIGTERM state=stopped ms=\d+$/),
  ])
  expect(records.every((r) => r.level === 30)).toBe(true)
})
