// SCF's async execution (AsyncRunEnable) and status tracing (TraceEnable) per function, InvokeFunction, the $LATEST
// qualifier, RoutingKey, and a graceful terminate during a cold start; driven by the official SDK client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEmulator } from '../../src/emulator/emulator.js'
import type { LocalServer } from '../../src/emulator/server.js'
import { apiError, fixture, startEmulator, waitForEnd, waitForLog, type ScfClient } from './helpers.js'
import { waitFor } from '../setup/wait.js'

let local: LocalServer
let scf: ScfClient

beforeAll(async () => {
  ;({ local, scf } = await startEmulator({
    functions: [
      // defaults: async execution and status tracing on
      { name: 'async-ok', entry: fixture('ok.cjs') },
      { name: 'async-throws', entry: fixture('throws.cjs') },
      { name: 'sync-ok', entry: fixture('ok.cjs'), asyncRunEnable: false },
      { name: 'sync-throws', entry: fixture('throws.cjs'), asyncRunEnable: false },
      { name: 'untraced', entry: fixture('ok.cjs'), traceEnable: false },
      { name: 'versioned', entry: fixture('ok.cjs'), qualifier: '3' },
      { name: 'slow-start', entry: fixture('slow-start.cjs'), timeoutMs: 30_000 },
      { name: 'slow-start-plain', entry: fixture('slow-start-plain.cjs'), timeoutMs: 30_000 },
      { name: 'one-at-a-time', entry: fixture('sleeper.cjs'), timeoutMs: 30_000, concurrency: 1 },
    ],
  }))
})
afterAll(() => local?.close())

const resultKeys = ['FunctionRequestId', 'RetMsg', 'ErrMsg', 'Log', 'Duration', 'BillDuration', 'MemUsage', 'InvokeResult']

describe('AsyncRunEnable on (the default)', () => {
  it('a RequestResponse Invoke is answered with the RequestId only and runs as a tracked async event', async () => {
    const r = await scf.Invoke({ FunctionName: 'async-ok', InvocationType: 'RequestResponse', ClientContext: '{"n":1}' })
    const id = r.Result.FunctionRequestId as string
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect(r.Result.RetMsg).toBe('')
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'FINISHED', StatusCode: 200 })
    expect(JSON.parse(local.emulator.getEvent(id)?.retMsg ?? 'null')).toEqual({ ok: true, echo: { n: 1 } })
    const list = await scf.ListAsyncEvents({ FunctionName: 'async-ok', InvokeRequestId: id })
    expect(list.TotalCount).toBe(1)
  })

  it('InvokeFunction on an async-execution function answers with the RequestId only too', async () => {
    const r = await scf.InvokeFunction({ FunctionName: 'async-ok', Event: '{"n":2}' })
    expect(Object.keys(r.Result).sort()).toEqual([...resultKeys].sort())
    expect(r.Result.RetMsg).toBe('')
    expect(await waitForEnd(scf, r.Result.FunctionRequestId)).toMatchObject({ Status: 'FINISHED', StatusCode: 200 })
  })

  it('a handler error recycles the instance', async () => {
    const id = (await scf.Invoke({ FunctionName: 'async-throws', InvocationType: 'Event', ClientContext: '{}' })).Result.FunctionRequestId
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'FAILED', StatusCode: 430 })
    expect(local.emulator.instanceCount('async-throws')).toBe(0)
  })

  it('TraceEnable off: the event runs but the event APIs do not know it', async () => {
    const seen: string[] = []
    const onLog = (l: { requestId: string; line: string }) => seen.push(`${l.requestId} ${l.line}`)
    local.emulator.on('log', onLog)
    const id = (await scf.Invoke({ FunctionName: 'untraced', ClientContext: '{}' })).Result.FunctionRequestId as string
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    // it ran: its log lines went out on the emulator's 'log' stream
    await waitFor(() => seen.some((l) => l.startsWith(`${id} Report`)), { what: () => `the Report line of ${id}; seen:\n${seen.join('\n')}`, intervalMs: 25 })
    local.emulator.off('log', onLog)
    expect(seen.some((l) => l === `${id} hello from untraced`)).toBe(true)
    expect((await apiError(scf.GetAsyncEventStatus({ InvokeRequestId: id }))).code).toBe('ResourceNotFound.AsyncEvent')
    expect((await apiError(scf.TerminateAsyncEvent({ FunctionName: 'untraced', InvokeRequestId: id }))).code).toBe('ResourceNotFound.AsyncEvent')
    expect(await scf.ListAsyncEvents({ FunctionName: 'untraced' })).toMatchObject({ TotalCount: 0, EventList: [] })
  })

  it('timeouts up to 24 h are accepted; longer ones are refused', async () => {
    const ok = await createEmulator({ functions: [{ name: 'long', entry: fixture('ok.cjs'), timeoutMs: 24 * 3600_000 }] })
    expect(ok.listFunctions()[0]).toMatchObject({ timeoutMs: 24 * 3600_000, asyncRunEnable: true, traceEnable: true })
    await ok.close()
    await expect(createEmulator({ functions: [{ name: 'long', entry: fixture('ok.cjs'), timeoutMs: 24 * 3600_000 + 1 }] })).rejects.toMatchObject({ code: 'SCFG_ERR_INVALID_OPTION' })
  })
})

describe('AsyncRunEnable off', () => {
  it('RequestResponse returns the result; Invoke with Event runs untracked', async () => {
    const r = await scf.Invoke({ FunctionName: 'sync-ok', ClientContext: '{"n":3}' })
    expect(JSON.parse(r.Result.RetMsg)).toEqual({ ok: true, echo: { n: 3 } })
    expect(r.Result.InvokeResult).toBe(0)
    const ev = await scf.Invoke({ FunctionName: 'sync-ok', InvocationType: 'Event', ClientContext: '{}' })
    expect((await apiError(scf.GetAsyncEventStatus({ InvokeRequestId: ev.Result.FunctionRequestId }))).code).toBe('ResourceNotFound.AsyncEvent')
    expect(await scf.ListAsyncEvents({ FunctionName: 'sync-ok' })).toMatchObject({ TotalCount: 0 })
  })

  it('InvokeFunction returns the result, with the log tail on request', async () => {
    const r = await scf.InvokeFunction({ FunctionName: 'sync-ok', Event: '{"n":4}', LogType: 'Tail' })
    expect(Object.keys(r.Result).sort()).toEqual([...resultKeys].sort())
    expect(JSON.parse(r.Result.RetMsg)).toEqual({ ok: true, echo: { n: 4 } })
    expect(r.Result.Log).toContain('hello from sync-ok')
  })

  it('a handler error (430) keeps the instance warm, as SCF does for functions without async execution', async () => {
    const r = await scf.InvokeFunction({ FunctionName: 'sync-throws', Event: '{"why":"sync"}' })
    expect(r.Result.InvokeResult).toBe(430)
    expect(JSON.parse(r.Result.ErrMsg)).toMatchObject({ errorMessage: expect.stringContaining('boom: sync') })
    expect(local.emulator.instanceCount('sync-throws')).toBe(1)
  })

  it('timeouts up to 900 s; longer ones and status tracing are refused', async () => {
    const fn = { name: 'short', entry: fixture('ok.cjs'), asyncRunEnable: false }
    const ok = await createEmulator({ functions: [{ ...fn, timeoutMs: 900_000 }] })
    expect(ok.listFunctions()[0]).toMatchObject({ asyncRunEnable: false, traceEnable: false })
    await ok.close()
    await expect(createEmulator({ functions: [{ ...fn, timeoutMs: 900_001 }] })).rejects.toMatchObject({ code: 'SCFG_ERR_INVALID_OPTION' })
    await expect(createEmulator({ functions: [{ ...fn, traceEnable: true }] })).rejects.toMatchObject({ code: 'SCFG_ERR_INVALID_OPTION' })
  })
})

describe('qualifiers and parameters', () => {
  it('$LATEST always exists: the default qualifier of a function configured with a version, which is served too', async () => {
    const byDefault = (await scf.Invoke({ FunctionName: 'versioned', InvocationType: 'Event', ClientContext: '{}' })).Result.FunctionRequestId
    const latest = (await scf.Invoke({ FunctionName: 'versioned', InvocationType: 'Event', Qualifier: '$LATEST', ClientContext: '{}' })).Result.FunctionRequestId
    const three = (await scf.Invoke({ FunctionName: 'versioned', InvocationType: 'Event', Qualifier: '3', ClientContext: '{}' })).Result.FunctionRequestId
    for (const id of [byDefault, latest, three]) await waitForEnd(scf, id)
    const list = await scf.ListAsyncEvents({ FunctionName: 'versioned', Qualifier: '$LATEST' })
    expect(list.EventList.map((e: { InvokeRequestId: string }) => e.InvokeRequestId).sort()).toEqual([byDefault, latest].sort())
    expect((await scf.ListAsyncEvents({ FunctionName: 'versioned', Qualifier: '3' })).EventList).toEqual([expect.objectContaining({ InvokeRequestId: three, Qualifier: '3' })])
    expect((await apiError(scf.Invoke({ FunctionName: 'versioned', Qualifier: '4', ClientContext: '{}' }))).code).toBe('ResourceNotFound.Function')
  })

  it.each([
    ['not JSON', 'k=v'],
    ['an array', '["k"]'],
    ['a number value', '{"k":1}'],
    ['a nested object', '{"k":{"a":"b"}}'],
    ['over 1024 bytes', JSON.stringify({ k: 'v'.repeat(1024) })],
  ])('RoutingKey %s is refused', async (_what, key) => {
    for (const call of [() => scf.Invoke({ FunctionName: 'sync-ok', ClientContext: '{}', RoutingKey: key }), () => scf.InvokeFunction({ FunctionName: 'sync-ok', RoutingKey: key })]) {
      const err = await apiError(call())
      expect(err.code).toBe('InvalidParameterValue')
      expect(err.message).toContain('RoutingKey')
    }
  })

  it('a valid RoutingKey is accepted', async () => {
    const r = await scf.InvokeFunction({ FunctionName: 'sync-ok', RoutingKey: '{"k":"v","x":"y"}' })
    expect(r.Result.InvokeResult).toBe(0)
  })

  it('a Status list of 100k entries is a parameter error, not InternalError', async () => {
    const err = await apiError(scf.ListAsyncEvents({ FunctionName: 'async-ok', Status: new Array(100_000).fill('RUNNING') }))
    expect(err.code).toBe('InvalidParameterValue.Status')
    const types = await apiError(scf.ListAsyncEvents({ FunctionName: 'async-ok', InvokeType: new Array(100_000).fill('OTHERS') }))
    expect(types.code).toBe('InvalidParameterValue.InvokeType')
    // repeats within the bound are fine
    expect(await scf.ListAsyncEvents({ FunctionName: 'async-ok', Status: ['RUNNING', 'RUNNING', 'FINISHED'] })).toHaveProperty('TotalCount')
  })
})

describe('graceful terminate during a cold start', () => {
  it('a function with a SIGTERM handler gets the signal once its process runs the event: ABORTED/200', async () => {
    const id = (await scf.Invoke({ FunctionName: 'slow-start', InvocationType: 'Event', ClientContext: '{}' })).Result.FunctionRequestId
    // the README's example: terminate right after invoking, while the instance is still starting
    await scf.TerminateAsyncEvent({ FunctionName: 'slow-start', InvokeRequestId: id, GraceShutdown: true })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'ABORTED', StatusCode: 200 })
    const lines = local.emulator.getEventLogs(id).map((l) => l.line)
    expect(lines).toContain('[PLATFORM] Signal received successfully.')
    expect(lines).not.toContain('[PLATFORM] Signal reception failed.')
    expect(JSON.parse(local.emulator.getEvent(id)?.retMsg ?? 'null')).toMatchObject({ stopped: true })
  })

  it('a function without a handler dies of it: ABORTED/439', async () => {
    const id = (await scf.Invoke({ FunctionName: 'slow-start-plain', InvocationType: 'Event', ClientContext: '{}' })).Result.FunctionRequestId
    await scf.TerminateAsyncEvent({ FunctionName: 'slow-start-plain', InvokeRequestId: id, GraceShutdown: true })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'ABORTED', StatusCode: 439 })
    expect(local.emulator.getEventLogs(id).map((l) => l.line)).toContain('[PLATFORM] Signal received successfully.')
  })

  it('an event queued behind a busy instance is given up: reception failed, ABORTED/499, it never runs', async () => {
    const busy = (await scf.Invoke({ FunctionName: 'one-at-a-time', InvocationType: 'Event', ClientContext: '{"ms":60000}' })).Result.FunctionRequestId
    await waitForLog(local, busy, /^working/)
    const queued = (await scf.Invoke({ FunctionName: 'one-at-a-time', InvocationType: 'Event', ClientContext: '{"ms":10}' })).Result.FunctionRequestId
    await scf.TerminateAsyncEvent({ FunctionName: 'one-at-a-time', InvokeRequestId: queued, GraceShutdown: true })
    expect(await waitForEnd(scf, queued)).toMatchObject({ Status: 'ABORTED', StatusCode: 499 })
    const lines = local.emulator.getEventLogs(queued).map((l) => l.line)
    expect(lines).toContain('[PLATFORM] Signal reception failed.')
    expect(lines.some((l) => l.startsWith('START'))).toBe(false)
    await scf.TerminateAsyncEvent({ FunctionName: 'one-at-a-time', InvokeRequestId: busy })
  })
})
