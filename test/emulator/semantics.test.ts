// Every row of the ARCHITECTURE "Local emulator semantics" table, with real functions in real child processes,
// driven through the official tencentcloud-sdk-nodejs-scf client.
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalServer } from '../../src/emulator/server.js'
import { apiError, fixture, startEmulator, waitForEnd, waitForLog, type ScfClient } from './helpers.js'

let local: LocalServer
let scf: ScfClient

beforeAll(async () => {
  ;({ local, scf } = await startEmulator({
    functions: [
      { name: 'ok', entry: fixture('ok.cjs') },
      { name: 'throws', entry: fixture('throws.cjs') },
      { name: 'sleeper', entry: fixture('sleeper.cjs'), timeoutMs: 30_000 },
      { name: 'short-timeout', entry: fixture('sleeper.cjs'), timeoutMs: 800 },
      { name: 'exits', entry: fixture('exits.cjs') },
      { name: 'ignores-sigterm', entry: fixture('ignores-sigterm.cjs'), timeoutMs: 1500 },
      { name: 'graceful-loop', entry: fixture('graceful-loop.cjs'), timeoutMs: 30_000 },
    ],
  }))
})
afterAll(() => local?.close())

async function invokeAsync(name: string, event: unknown = {}): Promise<string> {
  const r = await scf.Invoke({ FunctionName: name, InvocationType: 'Event', ClientContext: JSON.stringify(event) })
  expect(r.Result.FunctionRequestId).toMatch(/^[0-9a-f-]{36}$/)
  return r.Result.FunctionRequestId as string
}

describe('async event states', () => {
  it('invoked: RUNNING/0, then handler returned: FINISHED/200', async () => {
    const id = await invokeAsync('sleeper', { ms: 400 })
    const running = await scf.GetAsyncEventStatus({ InvokeRequestId: id })
    expect(running.Result).toEqual({ Status: 'RUNNING', StatusCode: 0, InvokeRequestId: id })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'FINISHED', StatusCode: 200 })
    expect(local.emulator.getEvent(id)?.retMsg).toBe('"slept"')
  })

  it('handler threw: FAILED/430', async () => {
    const id = await invokeAsync('throws', { why: 'test' })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'FAILED', StatusCode: 430 })
    expect(local.emulator.getEvent(id)?.errMsg).toContain('boom: test')
  })

  it('ran past its timeout: FAILED/433 and the instance is recycled', async () => {
    const id = await invokeAsync('short-timeout', { ms: 60_000 })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'FAILED', StatusCode: 433 })
    expect(local.emulator.instanceCount('short-timeout')).toBe(0)
  })

  it('process exited while running: FAILED/439', async () => {
    const id = await invokeAsync('exits')
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'FAILED', StatusCode: 439 })
    expect(local.emulator.instanceCount('exits')).toBe(0)
  })

  it('TerminateAsyncEvent by force: ABORTED/499, instance SIGKILLed and its tmp dir wiped', async () => {
    const id = await invokeAsync('sleeper', { ms: 60_000, writeTmp: 'precious.txt' })
    const tmpLine = await waitForLog(local, id, /^TMP=/)
    const tmp = tmpLine.slice(4)
    expect(existsSync(`${tmp}/precious.txt`)).toBe(true)
    await scf.TerminateAsyncEvent({ FunctionName: 'sleeper', InvokeRequestId: id })
    // the API returns once the termination is done
    const status = await scf.GetAsyncEventStatus({ InvokeRequestId: id })
    expect(status.Result).toMatchObject({ Status: 'ABORTED', StatusCode: 499 })
    expect(existsSync(tmp)).toBe(false)
    // a new invocation gets a fresh instance with an empty /tmp
    const next = await invokeAsync('sleeper', { ms: 10 })
    const nextTmp = (await waitForLog(local, next, /^TMP=/)).slice(4)
    expect(nextTmp).not.toBe(tmp)
    await waitForEnd(scf, next)
  })

  it('TerminateAsyncEvent gracefully, the library handler finishes: ABORTED/200 and the [PLATFORM] line', async () => {
    const id = await invokeAsync('graceful-loop')
    await waitForLog(local, id, /loop started/)
    await scf.TerminateAsyncEvent({ FunctionName: 'graceful-loop', InvokeRequestId: id, GraceShutdown: true })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'ABORTED', StatusCode: 200 })
    const lines = local.emulator.getEventLogs(id).map((l) => l.line)
    expect(lines).toContain('[PLATFORM] Signal received successfully.')
    expect(lines.some((l) => /loop stopped after \d+ rounds/.test(l))).toBe(true)
    expect(JSON.parse(local.emulator.getEvent(id)?.retMsg ?? 'null')).toMatchObject({ stopped: true })
  })

  it('TerminateAsyncEvent gracefully, no handler: the process exits, ABORTED/439', async () => {
    const id = await invokeAsync('sleeper', { ms: 60_000 })
    await waitForLog(local, id, /^working/)
    await scf.TerminateAsyncEvent({ FunctionName: 'sleeper', InvokeRequestId: id, GraceShutdown: true })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'ABORTED', StatusCode: 439 })
    expect(local.emulator.getEventLogs(id).map((l) => l.line)).toContain('[PLATFORM] Signal received successfully.')
  })

  it('a function that ignores SIGTERM stays RUNNING and can then be terminated by force (ABORTED/499)', async () => {
    const id = await invokeAsync('ignores-sigterm', { ms: 60_000 })
    await waitForLog(local, id, /running until stopped/)
    await scf.TerminateAsyncEvent({ FunctionName: 'ignores-sigterm', InvokeRequestId: id, GraceShutdown: true })
    await waitForLog(local, id, /SIGTERM received, ignoring it/)
    expect((await scf.GetAsyncEventStatus({ InvokeRequestId: id })).Result.Status).toBe('RUNNING')
    await scf.TerminateAsyncEvent({ FunctionName: 'ignores-sigterm', InvokeRequestId: id })
    expect((await scf.GetAsyncEventStatus({ InvokeRequestId: id })).Result).toMatchObject({ Status: 'ABORTED', StatusCode: 499 })
  })

  it('terminating an event that is not RUNNING: FailedOperation.AsyncEventStatus; unknown id: ResourceNotFound.AsyncEvent', async () => {
    const id = await invokeAsync('ok')
    await waitForEnd(scf, id)
    expect((await apiError(scf.TerminateAsyncEvent({ FunctionName: 'ok', InvokeRequestId: id }))).code).toBe('FailedOperation.AsyncEventStatus')
    expect((await apiError(scf.TerminateAsyncEvent({ FunctionName: 'ok', InvokeRequestId: 'no-such-event' }))).code).toBe('ResourceNotFound.AsyncEvent')
    expect((await apiError(scf.GetAsyncEventStatus({ InvokeRequestId: 'no-such-event' }))).code).toBe('ResourceNotFound.AsyncEvent')
  })
})

describe('instances', () => {
  it('reuses an idle warm instance and starts new ones on demand', async () => {
    const first = await scf.Invoke({ FunctionName: 'ok', ClientContext: '{"n":1}' })
    const second = await scf.Invoke({ FunctionName: 'ok', ClientContext: '{"n":2}' })
    expect(JSON.parse(first.Result.RetMsg)).toEqual({ ok: true, echo: { n: 1 } })
    expect(JSON.parse(second.Result.RetMsg)).toEqual({ ok: true, echo: { n: 2 } })
    expect(local.emulator.instanceCount('ok')).toBe(1)
    const ids = await Promise.all([0, 1, 2].map(() => invokeAsync('sleeper', { ms: 500 })))
    await Promise.all(ids.map((id) => waitForLog(local, id, /^working/)))
    expect(local.emulator.instanceCount('sleeper')).toBeGreaterThanOrEqual(3)
    for (const id of ids) expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'FINISHED' })
  })
})
