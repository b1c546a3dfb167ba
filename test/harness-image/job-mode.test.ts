// startFunction({ mode: 'job' }): one `node ENTRY` process per invoke, event in SCF_CUSTOM_CONTAINER_EVENT.
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { invocationFailure, useInstances, waitForLog } from '../core/helpers.js'
import { describe, expect, it } from 'vitest'

const jobEntry = fileURLToPath(new URL('./fixtures/job-entry.mjs', import.meta.url))
const runJobApi = fileURLToPath(new URL('./fixtures/run-job-api.mjs', import.meta.url))

const start = useInstances({ mode: 'job' })
const failure = invocationFailure

describe("startFunction({ mode: 'job' })", () => {
  it('runs the process once per invoke: exit 0 resolves { exitCode: 0 }', async () => {
    const fn = await start(jobEntry, { functionName: 'job-fn', timeoutMs: 10_000 })
    expect(fn.mode).toBe('job')
    expect(await fn.invoke({ action: 'ok', n: 1 }, { requestId: 'job-1' })).toEqual({ exitCode: 0 })
    const firstPid = fn.pid
    expect(fn.logs.some((l) => l.line === 'job started job-1 event={"action":"ok","n":1} fn=job-fn timeLimitMs=10000' && l.requestId === 'job-1')).toBe(true)
    expect(await fn.invoke({ action: 'ok', n: 2 }, { requestId: 'job-2' })).toEqual({ exitCode: 0 })
    expect(fn.pid).not.toBe(firstPid)
    // the instance outlives its runs (a pool keeps it) until it is stopped
    expect(fn.isExited).toBe(false)
    await fn.stop()
    expect(fn.isExited).toBe(true)
    await expect(fn.invoke({})).rejects.toMatchObject({ statusCode: 405 })
  })

  it('a handler error is 430 with the error line', async () => {
    const fn = await start(jobEntry)
    const err = await failure(fn.invoke({ action: 'throw' }))
    expect(err).toMatchObject({ statusCode: 430, code: 'SCFG_ERR_HANDLER_FAILED' })
    expect(err.errorMessage).toMatch(/^job exited with code 1: .*job broke/)
  })

  it('the exit counts once the output is read: every line logged, and the error line named, in every run', async () => {
    const fn = await start(jobEntry, { timeoutMs: 20_000 })
    // 'exit' races the stdio pipes: without the harness waiting for them, some runs lose their last lines
    for (let round = 0; round < 8; round++) {
      const err = await failure(fn.invoke({ action: 'throw', lines: 2000 }, { requestId: `burst-${round}` }))
      expect(err.errorMessage, `round ${round}`).toMatch(/^job exited with code 1: .*job broke/)
      const mine = fn.logs.filter((l) => l.requestId === `burst-${round}`)
      expect(mine.filter((l) => l.line.startsWith('burst ')).length).toBe(2000)
    }
  }, 60_000)

  it('terminate({ grace: true }): the job sees SIGTERM and its outcome decides (returned: exit 0)', async () => {
    const fn = await start(jobEntry, { timeoutMs: 20_000 })
    const pending = fn.invoke({ action: 'wait' })
    await waitForLog(fn, 'job started')
    expect(await fn.terminate({ grace: true })).toEqual({ code: 0, signal: null })
    expect(await pending).toEqual({ exitCode: 0 })
    expect(fn.logs.some((l) => l.line === 'job aborted=true reason=SIGTERM')).toBe(true)
  })

  it('terminate({ grace: true }) when the job rethrows the stop: exit 143, reported as 439', async () => {
    const fn = await start(jobEntry, { timeoutMs: 20_000 })
    const pending = fn.invoke({ action: 'wait', onAbort: 'throw' })
    await waitForLog(fn, 'job started')
    expect(await fn.terminate({ grace: true })).toEqual({ code: 143, signal: null })
    expect(await failure(pending)).toMatchObject({ statusCode: 439, code: 'SCFG_ERR_INSTANCE_EXITED' })
  })

  it('terminate({ grace: false }): 499 and the tmp dir wiped', async () => {
    const fn = await start(jobEntry, { timeoutMs: 20_000 })
    const pending = fn.invoke({ action: 'wait' })
    await waitForLog(fn, 'job started')
    await fn.terminate({ grace: false })
    expect(await failure(pending)).toMatchObject({ statusCode: 499, code: 'SCFG_ERR_INSTANCE_TERMINATED' })
    expect(existsSync(fn.tmpDir)).toBe(false)
  })

  it('a job stopping at its timeout is 433', async () => {
    const fn = await start(jobEntry, { timeoutMs: 1000 })
    expect(await failure(fn.invoke({ action: 'wait', onAbort: 'throw' }))).toMatchObject({ statusCode: 433, code: 'SCFG_ERR_INSTANCE_TIMEOUT' })
  })
})

// runJob imported by name from 'scf-graceful' in a job (the fixture run-job-api.mjs, as a user writes it)
describe("runJob from 'scf-graceful' with persistence", () => {
  it('flushes the tmp dir when the job ends and restores it in the next job', async () => {
    const storeDir = await mkdtemp(join(tmpdir(), 'scfg-job-store-'))
    try {
      const env = { FIXTURE_STORE_DIR: storeDir }
      const first = await start(runJobApi, { env })
      expect(await first.invoke({ step: 'one' })).toEqual({ exitCode: 0 })
      expect(first.logs.some((l) => l.line === 'progress before=""')).toBe(true)
      await first.stop()
      // a new instance (fresh tmp dir) picks up where the last one left off
      const second = await start(runJobApi, { env })
      expect(await second.invoke({ step: 'two' })).toEqual({ exitCode: 0 })
      expect(second.logs.some((l) => l.line === 'progress before="one\\n"')).toBe(true)
    } finally {
      await rm(storeDir, { recursive: true, force: true })
    }
  })
})
