// startFunction({ mode: 'image' }): the entry runs as `node ENTRY` on a free PORT and is invoked over real HTTP.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startFunction, type FunctionInstance } from '../../src/testing/index.js'
import { waitFor } from '../setup/wait.js'
import { invocationFailure, useInstances } from '../core/helpers.js'
import { describe, expect, it } from 'vitest'

const server = fileURLToPath(new URL('../express/fixtures/server.mjs', import.meta.url))
const bare = fileURLToPath(new URL('./fixtures/bare.mjs', import.meta.url))
const crash = fileURLToPath(new URL('./fixtures/crash.mjs', import.meta.url))

const start = useInstances({ mode: 'image' })
const failure = invocationFailure

describe("startFunction({ mode: 'image' })", () => {
  it('invokes POST /event-invoke with the X-Scf-* headers SCF sends', async () => {
    const fn = await start(server, { memoryMb: 512, timeoutMs: 5000, functionName: 'img-fn', namespace: 'ns1', qualifier: '3' })
    expect(fn.mode).toBe('image')
    const result = (await fn.invoke({ action: 'echo', x: 1 }, { requestId: 'img-req-1' })) as any
    expect(result.event).toEqual({ action: 'echo', x: 1 })
    expect(result.context).toMatchObject({ requestId: 'img-req-1', memoryLimitMb: 512, timeLimitMs: 5000, functionName: 'img-fn', namespace: 'ns1', functionVersion: '3', region: 'ap-guangzhou' })
    expect(await fn.invoke({ action: 'text' })).toBe('hello text')
    expect(fn.logs.some((l) => /listening/.test(l.line))).toBe(true)
  })

  it('has the lines the server logged before answering by the time invoke() resolves', async () => {
    const fn = await start(server, { timeoutMs: 30_000 })
    for (let round = 0; round < 30; round++) {
      expect(await fn.invoke({ action: 'chatty', round, lines: round % 3 === 0 ? 200 : 1 })).toEqual({ round })
      const seen = fn.logs.filter((l) => l.line.startsWith('last ')).map((l) => `${l.stream}: ${l.line}`)
      expect(seen, `round ${round}`).toContain(`stdout: last stdout line of ${round}`)
      expect(seen, `round ${round}`).toContain(`stderr: last stderr line of ${round}`)
    }
  }, 60_000)

  it('maps a thrown error to 430 and a too-large result to 407', async () => {
    const fn = await start(server)
    const err = await failure(fn.invoke({ action: 'throw', message: 'nope' }))
    expect(err).toMatchObject({ statusCode: 430, code: 'SCFG_ERR_HANDLER_FAILED', errorMessage: 'boom: nope', errorType: 'TypeError' })
    const big = await failure(fn.invoke({ action: 'big', bytes: 6 * 1024 * 1024 + 1 }))
    expect(big).toMatchObject({ statusCode: 407, code: 'SCFG_ERR_RESPONSE_TOO_LARGE' })
  })

  it('terminate({ grace: true }): concurrent invocations see SIGTERM, are answered, the process exits 0', async () => {
    const fn = await start(server, { timeoutMs: 20_000 })
    const pending = ['a', 'b', 'c'].map((id) => fn.invoke({ action: 'wait', ms: 60_000, afterAbortMs: 200 }, { requestId: `grace-${id}` }))
    await waitForLog(fn, (lines) => ['a', 'b', 'c'].every((id) => lines.some((l) => l === `started grace-${id}`)))
    const exit = await fn.terminate({ grace: true })
    expect(exit).toEqual({ code: 0, signal: null })
    expect(await Promise.all(pending)).toEqual(['a', 'b', 'c'].map((id) => ({ aborted: true, reason: 'SIGTERM', requestId: `grace-${id}` })))
  })

  it('terminate({ grace: false }): 499 and the tmp dir wiped', async () => {
    const fn = await start(server, { timeoutMs: 20_000 })
    const pending = fn.invoke({ action: 'wait', ms: 60_000 }, { requestId: 'force-1' })
    await waitForLog(fn, (lines) => lines.includes('started force-1'))
    expect(existsSync(fn.tmpDir)).toBe(true)
    await fn.terminate({ grace: false })
    expect(await failure(pending)).toMatchObject({ statusCode: 499, code: 'SCFG_ERR_INSTANCE_TERMINATED' })
    expect(existsSync(fn.tmpDir)).toBe(false)
  })

  it('a server without the library dies on SIGTERM: 439', async () => {
    const fn = await start(bare, { timeoutMs: 20_000 })
    expect(await fn.invoke({ action: 'echo' })).toEqual({ bare: true, event: { action: 'echo' } })
    const pending = fn.invoke({ action: 'hang' }, { requestId: 'bare-1' })
    await waitForLog(fn, (lines) => lines.includes('bare got bare-1'))
    fn.signal('SIGTERM')
    expect(await failure(pending)).toMatchObject({ statusCode: 439, code: 'SCFG_ERR_INSTANCE_EXITED' })
    expect((await fn.exited).signal).toBe('SIGTERM')
  })

  it('an invocation past its timeout: the instance is killed, 433', async () => {
    const fn = await start(bare, { timeoutMs: 500 })
    expect(await failure(fn.invoke({ action: 'hang' }))).toMatchObject({ statusCode: 433, code: 'SCFG_ERR_INSTANCE_TIMEOUT' })
    expect(fn.isExited).toBe(true)
  })

  it('an entry that never listens fails to start with SCFG_ERR_INSTANCE_START and its last log lines', async () => {
    const err = await startFunction({ entry: crash, mode: 'image' }).then(
      () => undefined,
      (e: unknown) => e as Error & { code: string },
    )
    expect(err?.code).toBe('SCFG_ERR_INSTANCE_START')
    expect(err?.message).toContain('cannot start: missing CONFIG_URL')
  })

  it('passes the credentials as headers and none of them reaches the output', async () => {
    const secrets = { TENCENTCLOUD_SECRETID: 'AKIDharness0123456789', TENCENTCLOUD_SECRETKEY: 'harness-secret-key-0123456789', TENCENTCLOUD_SESSIONTOKEN: 'harness-token-0123456789abcdef' }
    const lines: string[] = []
    const fn = await start(server, { env: secrets, onLog: (l) => lines.push(l.line) })
    const result = (await fn.invoke({ action: 'echo' })) as any
    expect(result.credentials).toEqual({ secretIdLength: secrets.TENCENTCLOUD_SECRETID.length, hasToken: true })
    await failure(fn.invoke({ action: 'throw', leakSecret: true }))
    await waitForLog(fn, (all) => all.some((l) => l.includes('invocation failed')))
    const out = lines.join('\n')
    expect(out).toContain('key=***')
    for (const value of Object.values(secrets)) expect(out).not.toContain(value)
  })
})

async function waitForLog(fn: FunctionInstance, ok: (lines: string[]) => boolean, timeoutMs = 15_000): Promise<void> {
  await waitFor(() => ok(fn.logs.map((l) => l.line)), { what: () => `the log condition; logs:\n${fn.logs.map((l) => l.line).join('\n')}`, timeoutMs, intervalMs: 20 })
}
