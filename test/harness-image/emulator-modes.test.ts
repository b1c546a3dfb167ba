// Image and Job functions on the local emulator, driven through the official SCF client: the async event states
// come out the same as for code functions.
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalServer } from '../../src/emulator/server.js'
import { startEmulator, waitForEnd, waitForLog, type ScfClient } from '../emulator/helpers.js'

const server = fileURLToPath(new URL('../express/fixtures/server.mjs', import.meta.url))
const jobEntry = fileURLToPath(new URL('./fixtures/job-entry.mjs', import.meta.url))

let local: LocalServer
let scf: ScfClient

beforeAll(async () => {
  ;({ local, scf } = await startEmulator({
    functions: [
      { name: 'image-fn', entry: server, mode: 'image', timeoutMs: 30_000 },
      { name: 'job-fn', entry: jobEntry, mode: 'job', timeoutMs: 30_000 },
    ],
  }))
})
afterAll(() => local?.close())

async function invokeAsync(name: string, event: unknown): Promise<string> {
  const r = await scf.Invoke({ FunctionName: name, InvocationType: 'Event', ClientContext: JSON.stringify(event) })
  return r.Result.FunctionRequestId as string
}

describe('image functions on the emulator', () => {
  it('FINISHED/200 with the handler result', async () => {
    const id = await invokeAsync('image-fn', { action: 'echo', n: 7 })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'FINISHED', StatusCode: 200 })
    const ret = JSON.parse(local.emulator.getEvent(id)?.retMsg ?? 'null')
    expect(ret.event).toEqual({ action: 'echo', n: 7 })
    expect(ret.context.requestId).toBe(id)
  })

  it('FAILED/430 when the handler throws', async () => {
    const id = await invokeAsync('image-fn', { action: 'throw', message: 'on the emulator' })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'FAILED', StatusCode: 430 })
    expect(local.emulator.getEvent(id)?.errMsg).toContain('boom: on the emulator')
  })

  it('graceful terminate: the invocation sees SIGTERM and answers: ABORTED/200', async () => {
    const id = await invokeAsync('image-fn', { action: 'wait', ms: 60_000 })
    await waitForLog(local, id, /started /)
    await scf.TerminateAsyncEvent({ FunctionName: 'image-fn', InvokeRequestId: id, GraceShutdown: true })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'ABORTED', StatusCode: 200 })
    expect(JSON.parse(local.emulator.getEvent(id)?.retMsg ?? 'null')).toMatchObject({ aborted: true, reason: 'SIGTERM' })
    expect(local.emulator.getEventLogs(id).some((l) => l.line === '[PLATFORM] Signal received successfully.')).toBe(true)
  })

  it('force terminate: ABORTED/499', async () => {
    const id = await invokeAsync('image-fn', { action: 'wait', ms: 60_000 })
    await waitForLog(local, id, /started /)
    await scf.TerminateAsyncEvent({ FunctionName: 'image-fn', InvokeRequestId: id })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'ABORTED', StatusCode: 499 })
  })
})

describe('job functions on the emulator', () => {
  it('FINISHED/200 with { exitCode: 0 }, FAILED/430 when the handler throws', async () => {
    const ok = await invokeAsync('job-fn', { action: 'ok' })
    expect(await waitForEnd(scf, ok)).toMatchObject({ Status: 'FINISHED', StatusCode: 200 })
    expect(local.emulator.getEvent(ok)?.retMsg).toBe('{"exitCode":0}')
    const bad = await invokeAsync('job-fn', { action: 'throw' })
    expect(await waitForEnd(scf, bad)).toMatchObject({ Status: 'FAILED', StatusCode: 430 })
  })

  it('graceful terminate: the job returns after SIGTERM: ABORTED/200', async () => {
    const id = await invokeAsync('job-fn', { action: 'wait' })
    await waitForLog(local, id, /job started/)
    await scf.TerminateAsyncEvent({ FunctionName: 'job-fn', InvokeRequestId: id, GraceShutdown: true })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'ABORTED', StatusCode: 200 })
    await waitForLog(local, id, /job aborted=true reason=SIGTERM/)
  })
})
