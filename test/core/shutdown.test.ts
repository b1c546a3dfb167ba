import { describe, expect, it } from 'vitest'
import { InvocationError, type StartFunctionOptions } from '../../src/testing/index.js'
import { count, fixture, lines, useInstances, waitForCount, waitForLog } from './helpers.js'

const startInstance = useInstances({ timeoutMs: 30_000 })
const start = (entry: string, options: Partial<StartFunctionOptions> = {}) => startInstance(fixture(entry), options)

describe('SIGTERM in a real child process', () => {
  it('aborts the running invocation; the handler sees shouldStop and returns its own result', async () => {
    const fn = await start('loop.cjs')
    const pending = fn.invoke({})
    await waitForLog(fn, 'started')
    expect(fn.signal('SIGTERM')).toBe(true)
    await expect(pending).resolves.toEqual({ stopped: true, reason: 'SIGTERM', code: 'SCFG_ERR_SHUTDOWN_ABORTED' })
    expect(lines(fn)).toContain('hook ran')
    expect(fn.isExited).toBe(false)
  })

  it('re-arms after the cycle: the next invocation gets a fresh signal and hooks run again', async () => {
    const fn = await start('loop.cjs')
    for (let round = 1; round <= 3; round++) {
      const pending = fn.invoke({})
      await waitForCount(fn, /^started /, round)
      // a fresh signal: the new invocation is still looping a few rounds in (an aborted one would have stopped at once)
      await waitForCount(fn, /^still running /, round)
      expect(count(fn, /^stopping after/)).toBe(round - 1)
      fn.signal('SIGTERM')
      await expect(pending).resolves.toMatchObject({ stopped: true, reason: 'SIGTERM' })
    }
    expect(count(fn, /^hook ran$/)).toBe(3)
    expect(fn.isExited).toBe(false)
  })

  it('runs hooks once, in priority order; a throwing and a hanging hook are logged by name and the rest still run', async () => {
    const fn = await start('hooks.cjs')
    const pending = fn.invoke({})
    await waitForLog(fn, 'running')
    fn.signal('SIGTERM')
    await expect(pending).resolves.toBe('stopped')
    await waitForLog(fn, 'state=stopped')
    const log = lines(fn)
    const order = log.filter((l) => l.startsWith('hook:'))
    expect(order).toEqual(['hook:stop-intake', 'hook:close-db', 'hook:flush-metrics'])
    expect(log.some((l) => /hook failed name=thrower .*boom/.test(l))).toBe(true)
    expect(log.some((l) => /hook timed out name=hangs/.test(l))).toBe(true)
    // the hanging hook came before close-db in priority: the order proves it did not block the rest
    expect(log.findIndex((l) => l.includes('name=hangs'))).toBeLessThan(log.indexOf('hook:close-db'))
  })

  it('settles a handler that ignores its signal with SCFG_ERR_SHUTDOWN_DEADLINE at the deadline', async () => {
    const fn = await start('stubborn.cjs', { env: { GRACE_MS: '300' } })
    const pending = fn.invoke({})
    await waitForLog(fn, 'running')
    fn.signal('SIGTERM')
    const err = await pending.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvocationError)
    expect((err as InvocationError).statusCode).toBe(430)
    expect((err as InvocationError).errorType).toBe('ShutdownError')
    expect((err as InvocationError).errorMessage).toMatch(/did not settle before the shutdown deadline/)
    expect(lines(fn).some((l) => l.includes('handler did not settle in time'))).toBe(true)
  })

  it('a storm of 20 SIGTERMs runs the hooks exactly once', async () => {
    const fn = await start('stubborn.cjs', { env: { GRACE_MS: '1000' } })
    const pending = fn.invoke({}).catch((e: unknown) => e)
    await waitForLog(fn, 'running')
    // one at a time, each acknowledged (the kernel merges signals that arrive while one is still pending): the first
    // starts the cycle, each later one is logged as ignored
    fn.signal('SIGTERM')
    await waitForLog(fn, 'reason=SIGTERM state=stopping')
    for (let i = 1; i < 20; i++) {
      fn.signal('SIGTERM')
      await waitForCount(fn, /SIGTERM received while stopping: ignored/, i)
    }
    await pending
    await waitForLog(fn, 'state=stopped')
    expect(lines(fn).filter((l) => l.startsWith('hook runs='))).toEqual(['hook runs=1'])
    expect(count(fn, /SIGTERM received while stopping: ignored/)).toBe(19)
    expect(fn.isExited).toBe(false)
  })

  it('without the library, SIGTERM kills the process: status 439', async () => {
    const fn = await start('plain.cjs')
    const pending = fn.invoke({})
    await waitForLog(fn, 'running')
    fn.signal('SIGTERM')
    const err = (await pending.catch((e: unknown) => e)) as InvocationError
    expect(err.code).toBe('SCFG_ERR_INSTANCE_EXITED')
    expect(err.statusCode).toBe(439)
    expect(await fn.exited).toEqual({ code: null, signal: 'SIGTERM' })
  })

  it('uninstall() restores the default: SIGTERM kills the process again', async () => {
    const fn = await start('uninstall.cjs')
    const pending = fn.invoke({ uninstall: true })
    await waitForLog(fn, 'running')
    fn.signal('SIGTERM')
    const err = (await pending.catch((e: unknown) => e)) as InvocationError
    expect(err.statusCode).toBe(439)
    expect((await fn.exited).signal).toBe('SIGTERM')
  })

  it('a second SIGINT exits at once with code 130', async () => {
    const fn = await start('stubborn.cjs', { env: { GRACE_MS: '30000' } })
    const pending = fn.invoke({}).catch((e: unknown) => e)
    await waitForLog(fn, 'running')
    fn.signal('SIGINT')
    await waitForLog(fn, 'reason=SIGINT state=stopping')
    fn.signal('SIGINT')
    expect(await fn.exited).toEqual({ code: 130, signal: null })
    expect(((await pending) as InvocationError).statusCode).toBe(439)
  })

  it("aborts timeoutMarginMs before the invocation's own timeout with reason 'timeout'", async () => {
    const fn = await start('timeout.cjs', { timeoutMs: 1500 })
    const result = (await fn.invoke({})) as { reason: string; code: string; before: number; left: number; limit: number }
    expect(result.reason).toBe('timeout')
    expect(result.code).toBe('SCFG_ERR_SHUTDOWN_ABORTED')
    expect(result.limit).toBe(1500)
    expect(result.before).toBeGreaterThan(1000)
    // aborted with about the margin (500 ms) left, not at the platform's kill
    expect(result.left).toBeGreaterThan(200)
    expect(result.left).toBeLessThanOrEqual(500)
    expect(fn.isExited).toBe(false)
  })

  it('the ESM and the CJS build in one process share one controller', async () => {
    const fn = await start('dual.cjs')
    const pending = fn.invoke({})
    await waitForLog(fn, 'running')
    fn.signal('SIGTERM')
    await expect(pending).resolves.toEqual({ sameShutdownError: true, sigtermListeners: 1, sigintListeners: 1 })
    await waitForLog(fn, 'state=stopped')
    expect(lines(fn).filter((l) => l.startsWith('hook:'))).toEqual(['hook:esm', 'hook:cjs'])
  })

  it('never writes TENCENTCLOUD_SECRETKEY or TENCENTCLOUD_SESSIONTOKEN to a log line', async () => {
    const secretKey = 'SK-very-secret-0123456789abcdef'
    const token = 'TOKEN-very-secret-abcdefghijklmnop'
    const fn = await start('secrets.cjs', { env: { TENCENTCLOUD_SECRETID: 'AKID-id-0123456789', TENCENTCLOUD_SECRETKEY: secretKey, TENCENTCLOUD_SESSIONTOKEN: token } })
    const pending = fn.invoke({})
    await waitForLog(fn, 'running')
    fn.signal('SIGTERM')
    await pending
    await waitForLog(fn, 'state=stopped')
    const all = lines(fn).join('\n')
    expect(all).toMatch(/hook failed name=hook-\*\*\* .*cannot close with \*\*\* and \*\*\*/)
    expect(all).not.toContain(secretKey)
    expect(all).not.toContain(token)
  })
})
