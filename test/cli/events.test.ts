// `scf-graceful events` end to end: the built CLI in child processes against `scf-graceful local` (also a child process),
// plus unit tests of the pure pieces (durations, times, tables, exit codes, filters).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from '../../src/cli/events/duration.js'
import { exitCodeForApi, exitCodes } from '../../src/cli/events/errors.js'
import { filterParams, listAll, orderParams } from '../../src/cli/events/list-query.js'
import { table } from '../../src/cli/events/output.js'
import { fromApiTime, parseTimeArg, toApiTime } from '../../src/cli/events/time.js'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSignedApi, Pacer, type EventsApi } from '../../src/cli/events/api-client.js'
import { verifyTc3 } from '../../src/emulator/tc3.js'
import { terminateEvent } from '../../src/cli/events/terminate.js'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cliPath, eventsCli, fixture, json, runCli, cleanEnv, startLocal, until, type LocalEmulator } from './events-helpers.js'
import { waitFor } from '../setup/wait.js'

describe('events CLI: pure pieces', () => {
  it('parses durations and rejects garbage', () => {
    expect(parseDuration('30s')).toBe(30_000)
    expect(parseDuration('2m')).toBe(120_000)
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('1h30m')).toBe(5_400_000)
    expect(parseDuration('1.5s')).toBe(1500)
    expect(parseDuration('30')).toBe(30_000)
    expect(parseDuration('0')).toBe(0)
    for (const bad of ['', 's', '5x', '-1s', '1s2', 'ms5', '1 s', 'abc']) expect(parseDuration(bad), bad).toBeUndefined()
  })

  it('formats durations short', () => {
    expect(formatDuration(850)).toBe('850ms')
    expect(formatDuration(4200)).toBe('4.2s')
    expect(formatDuration(42_000)).toBe('42s')
    expect(formatDuration(185_000)).toBe('3m05s')
    expect(formatDuration(7_800_000)).toBe('2h10m')
  })

  it('reads and writes API times in UTC+8', () => {
    const ms = Date.UTC(2026, 10, 30, 0, 0, 0)
    expect(toApiTime(ms)).toBe('2026-11-30 08:00:00')
    expect(fromApiTime('2026-11-30 08:00:00.250000')).toBe(ms + 250)
    expect(fromApiTime('')).toBeUndefined()
    const now = Date.UTC(2026, 10, 30, 12, 0, 0)
    expect(parseTimeArg('2h', now)).toBe(now - 7_200_000)
    expect(parseTimeArg('now', now)).toBe(now)
    expect(parseTimeArg('2026-11-30 08:00:00', now)).toBe(ms)
    expect(parseTimeArg('2026-11-30T00:00:00Z', now)).toBe(ms)
    expect(parseTimeArg('2026-11-30T08:00:00+08:00', now)).toBe(ms)
    expect(parseTimeArg('yesterday', now)).toBeUndefined()
  })

  it('turns filter flags into ListAsyncEvents parameters', () => {
    const now = Date.UTC(2026, 10, 30, 0, 0, 0)
    expect(
      filterParams({ function: 'job', namespace: 'ns', qualifier: '1', status: ['running,failed', 'RUNNING'], 'invoke-type': ['timer'], 'started-from': '1h', 'started-before': 'now', 'request-id': 'abc' }, now),
    ).toEqual({
      FunctionName: 'job',
      Namespace: 'ns',
      Qualifier: '1',
      Status: ['RUNNING', 'FAILED'],
      InvokeType: ['TIMER'],
      StartTimeInterval: { Start: '2026-11-30 07:00:00', End: '2026-11-30 08:00:00' },
      InvokeRequestId: 'abc',
    })
    expect(() => filterParams({})).toThrow(/--function is required/)
    expect(() => filterParams({ function: 'f', status: ['DONE'] })).toThrow(/--status must be one of/)
    expect(() => filterParams({ function: 'f', 'ended-from': 'now', 'ended-before': '1h' })).toThrow(/must not be later/)
    expect(orderParams({ order: 'asc', orderby: 'end' })).toEqual({ Order: 'ASC', Orderby: 'EndTime' })
    expect(() => orderParams({ orderby: 'size' })).toThrow(/--orderby/)
  })

  it('maps API error codes to exit codes', () => {
    expect(exitCodeForApi('ResourceNotFound.AsyncEvent')).toBe(exitCodes.notFound)
    expect(exitCodeForApi('FailedOperation.AsyncEventStatus')).toBe(exitCodes.failed)
    expect(exitCodeForApi('AuthFailure.SignatureFailure')).toBe(exitCodes.auth)
    expect(exitCodeForApi('RequestLimitExceeded')).toBe(exitCodes.unavailable)
    expect(exitCodeForApi('InvalidParameterValue.Limit')).toBe(exitCodes.usage)
    expect(exitCodeForApi('NetworkError')).toBe(exitCodes.unavailable)
    expect(exitCodeForApi('InternalError')).toBe(exitCodes.failed)
  })

  it('aligns tables whatever the colour codes', () => {
    const t = table(['A', 'BB'], [['\u001b[31mxyz\u001b[0m', '1'], ['q', '22']]).split('\n')
    expect(t[0]).toBe('A    BB')
    expect(t[1]).toBe('\u001b[31mxyz\u001b[0m  1')
    expect(t[2]).toBe('q    22')
  })

  it('signs its own requests (TC3-HMAC-SHA256, no SDK): the headers the API needs, the token, a verifiable signature', async () => {
    const seen: { headers: Record<string, string | string[] | undefined>; body: Buffer }[] = []
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks) })
        res.setHeader('Content-Type', 'application/json')
        res.end(seen.length === 1 ? '{"Response":{"Result":{"Status":"RUNNING"},"RequestId":"r-1"}}' : '{"Response":{"Error":{"Code":"ResourceNotFound.AsyncEvent","Message":"no such event"},"RequestId":"r-2"}}')
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const port = (server.address() as AddressInfo).port
      const api = createSignedApi({ endpoint: `http://127.0.0.1:${port}`, region: 'ap-shanghai', secretId: 'AKIDsignTest0001', secretKey: 'sign-test-secret-key-0001', sessionToken: 'session-token-0001' })
      expect(await api.call('GetAsyncEventStatus', { InvokeRequestId: 'x' })).toEqual({ Result: { Status: 'RUNNING' }, RequestId: 'r-1' })
      await expect(api.call('GetAsyncEventStatus', { InvokeRequestId: 'y' })).rejects.toMatchObject({ apiCode: 'ResourceNotFound.AsyncEvent', requestId: 'r-2', message: 'no such event' })
      const first = seen[0]!
      expect(first.headers).toMatchObject({ 'x-tc-action': 'GetAsyncEventStatus', 'x-tc-version': '2018-04-16', 'x-tc-region': 'ap-shanghai', 'x-tc-token': 'session-token-0001' })
      expect(JSON.parse(first.body.toString())).toEqual({ InvokeRequestId: 'x' })
      const verified = verifyTc3({ method: 'POST', path: '/', query: '', headers: first.headers, body: first.body }, { credentials: new Map([['AKIDsignTest0001', 'sign-test-secret-key-0001']]) })
      expect(verified).toMatchObject({ ok: true, service: 'scf' })
      const wrongKey = verifyTc3({ method: 'POST', path: '/', query: '', headers: first.headers, body: first.body }, { credentials: new Map([['AKIDsignTest0001', 'another-key']]) })
      expect(wrongKey.ok).toBe(false)
    } finally {
      server.close()
    }
  })

  it('paces calls of one action, not across actions', async () => {
    const pacer = new Pacer(20)
    const t0 = performance.now()
    await Promise.all([pacer.slot('A'), pacer.slot('A'), pacer.slot('A'), pacer.slot('B')])
    // three A calls need two intervals of 50 ms; B does not wait behind them (a bound, not a timing assertion)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95)
  })
})

describe('terminateEvent: the decisions (scripted API answers)', () => {
  /** An API that answers GetAsyncEventStatus from a script and records every call. */
  function scripted(statuses: string[], terminate: (grace: boolean) => void = () => {}) {
    const calls: string[] = []
    const api: EventsApi = {
      async call(action, params) {
        const p = params as { GraceShutdown?: boolean }
        calls.push(action === 'TerminateAsyncEvent' ? `Terminate(grace=${p.GraceShutdown})` : action)
        if (action === 'TerminateAsyncEvent') {
          terminate(p.GraceShutdown === true)
          return {}
        }
        const status = statuses.length > 1 ? (statuses.shift() as string) : (statuses[0] as string)
        return { Result: { Status: status, StatusCode: status === 'RUNNING' ? 0 : 200, InvokeRequestId: 'e1' } }
      },
    }
    return { api, calls }
  }
  const base = { functionName: 'f', requestId: 'e1', pollInitialMs: 1, pollMaxMs: 2 }

  it('graceful: SIGTERM, then polls until the event ends; no force', async () => {
    const { api, calls } = scripted(['RUNNING', 'RUNNING', 'ABORTED'])
    const r = await terminateEvent(api, { ...base, grace: true, escalateAfterMs: 5000 })
    expect(r).toMatchObject({ outcome: 'graceful', graceSent: true, forceSent: false, status: 'ABORTED', polls: 3 })
    expect(calls).toEqual(['Terminate(grace=true)', 'GetAsyncEventStatus', 'GetAsyncEventStatus', 'GetAsyncEventStatus'])
  })

  it('escalates once the window closes with the event still RUNNING', async () => {
    const statuses = ['RUNNING']
    const { api, calls } = scripted(statuses, (grace) => {
      if (!grace) statuses.splice(0, 1, 'ABORTED')
    })
    let told = 0
    const r = await terminateEvent(api, { ...base, grace: true, escalateAfterMs: 30, onEscalate: () => told++ })
    expect(r).toMatchObject({ outcome: 'escalated', graceSent: true, forceSent: true, status: 'ABORTED' })
    expect(told).toBe(1)
    expect(calls.filter((c) => c.startsWith('Terminate'))).toEqual(['Terminate(grace=true)', 'Terminate(grace=false)'])
  })

  it('an event that ends between the last poll and the force request counts as graceful', async () => {
    const statuses = ['RUNNING']
    const api: EventsApi = {
      async call(action, params) {
        if (action === 'TerminateAsyncEvent') {
          if ((params as { GraceShutdown: boolean }).GraceShutdown) return {}
          statuses.splice(0, 1, 'ABORTED')
          throw Object.assign(new Error('Async event e1 is ABORTED'), { code: 'FailedOperation.AsyncEventStatus' })
        }
        return { Result: { Status: statuses[0], StatusCode: 200, InvokeRequestId: 'e1' } }
      },
    }
    const r = await terminateEvent(api, { ...base, grace: true, escalateAfterMs: 20 })
    expect(r).toMatchObject({ outcome: 'graceful', forceSent: false, status: 'ABORTED' })
    expect(r.error).toBeUndefined()
  })

  it('not RUNNING at all: reports it with the API error; other errors propagate', async () => {
    const ended: EventsApi = {
      async call(action) {
        if (action === 'TerminateAsyncEvent') throw Object.assign(new Error('is FINISHED'), { code: 'FailedOperation.AsyncEventStatus', requestId: 'r1' })
        return { Result: { Status: 'FINISHED', StatusCode: 200, InvokeRequestId: 'e1' } }
      },
    }
    const r = await terminateEvent(ended, { ...base, grace: true })
    expect(r).toMatchObject({ outcome: 'not-running', status: 'FINISHED', error: { code: 'FailedOperation.AsyncEventStatus', requestId: 'r1' } })
    const missing: EventsApi = {
      async call() {
        throw Object.assign(new Error('no such event'), { code: 'ResourceNotFound.AsyncEvent' })
      },
    }
    await expect(terminateEvent(missing, base)).rejects.toMatchObject({ apiCode: 'ResourceNotFound.AsyncEvent' })
  })

  it('listAll pages 100 at a time and drops events that moved between pages', async () => {
    const all = Array.from({ length: 250 }, (_, i) => ({ InvokeRequestId: `e${i}`, InvokeType: 'OTHERS', Qualifier: '$LATEST', Status: 'RUNNING', StartTime: '', EndTime: '' }))
    const asked: Array<{ Offset: number; Limit: number }> = []
    const api: EventsApi = {
      async call(_action, params) {
        const p = params as { Offset: number; Limit: number }
        asked.push({ Offset: p.Offset, Limit: p.Limit })
        // a new event arrives on top after the first page: page two starts one event "early"
        const list = asked.length > 1 ? [{ ...all[0]!, InvokeRequestId: 'new' }, ...all] : all
        return { TotalCount: list.length, EventList: list.slice(p.Offset, p.Offset + p.Limit) }
      },
    }
    const page = await listAll(api, { FunctionName: 'f' })
    expect(asked.map((a) => a.Offset)).toEqual([0, 100, 200])
    expect(asked.every((a) => a.Limit === 100)).toBe(true)
    expect(new Set(page.EventList.map((e) => e.InvokeRequestId)).size).toBe(page.EventList.length)
    expect(page.EventList.length).toBe(250)
  })

  it('--no-escalate leaves a stubborn event RUNNING and says so', async () => {
    const { api, calls } = scripted(['RUNNING'])
    const r = await terminateEvent(api, { ...base, grace: true, escalate: false, escalateAfterMs: 20 })
    expect(r).toMatchObject({ outcome: 'still-running', forceSent: false, status: 'RUNNING' })
    expect(calls.filter((c) => c.startsWith('Terminate'))).toEqual(['Terminate(grace=true)'])
  })
})

// each test starts several CLI processes (the SDK loads in each): room for a loaded 2-core machine
describe('events CLI against scf-graceful local', { timeout: 180_000 }, () => {
  let local: LocalEmulator
  const cli = (args: string[], env?: Record<string, string>, timeoutMs?: number) => eventsCli(local, args, env, timeoutMs)
  const invoke = async (fn: string, payload = '{}') => {
    const r = await cli(['invoke', '-f', fn, '-p', payload])
    expect(r.code, r.stderr).toBe(0)
    const id = r.stdout.trim()
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    return id
  }
  const statusOf = async (id: string) => json(await cli(['status', id, '--json'])).Result as { Status: string; StatusCode: number }
  const waitRunning = (id: string) => until(`${id} RUNNING with its instance up`, async () => {
    // the [PLATFORM] line only appears once the instance has the event: wait for the handler's first line instead
    const r = await runCli(['events', 'logs', id, '--console', local.consoleUrl, '--json'], cleanEnv())
    return r.code === 0 && json(r).lines.some((l: { stream: string }) => l.stream === 'stdout') ? true : undefined
  })

  beforeAll(async () => {
    // work-sync: without async execution, so a RequestResponse invoke returns the result
    local = await startLocal({ work: fixture('work.cjs'), 'work-sync': fixture('work.cjs'), stubborn: fixture('stubborn.cjs'), escapes: fixture('escapes.cjs') }, ['--no-async-run', 'work-sync'])
  })
  afterAll(async () => {
    await local?.stop()
  })

  it('usage errors exit 2 with a clear message', async () => {
    expect((await cli([])).code).toBe(2)
    const unknown = await cli(['explode'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('unknown events command "explode"')
    const dur = await cli(['terminate', 'x', '-f', 'work', '--escalate-after', '5 parsecs'])
    expect(dur.code).toBe(2)
    expect(dur.stderr).toContain('--escalate-after must be a duration like 30s')
    const limit = await cli(['list', '-f', 'work', '--limit', '0'])
    expect(limit.code).toBe(2)
    expect(limit.stderr).toContain('--limit must be a whole number from 1 to 100')
    const flag = await cli(['list', '-f', 'work', '--colour'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain("Unknown option '--colour'")
    expect((await cli(['list'])).stderr).toContain('--function is required')
    const noTarget = await cli(['terminate', '-f', 'work'])
    expect(noTarget.code).toBe(2)
    expect(noTarget.stderr).toContain('--status RUNNING')
    const payload = await cli(['invoke', '-f', 'work', '-p', '{nope'])
    expect(payload.code).toBe(2)
    expect(payload.stderr).toContain('not valid JSON')
    const help = await cli(['terminate', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--escalate-after')
  })

  it('without credentials it says how to give them (exit 2), and never prints them', async () => {
    const r = await runCli(['events', 'list', '-f', 'work', '--endpoint', local.url], cleanEnv())
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('TENCENTCLOUD_SECRETID')
    const cloud = await runCli(['events', 'list', '-f', 'work'], cleanEnv({ TENCENTCLOUD_SECRETID: 'AKIDxxxxxxxxxxxx', TENCENTCLOUD_SECRETKEY: 'yyyyyyyyyyyyyyyy' }))
    expect(cloud.code).toBe(2)
    expect(cloud.stderr).toContain('no region')
    const bad = await cli(['list', '-f', 'work', '--secret-key', 'wrong-but-long-secret-key'])
    expect(bad.code).toBe(5)
    expect(bad.stderr).toMatch(/Code: +AuthFailure\.SignatureFailure/)
    expect(bad.stderr).toMatch(/RequestId: +[0-9a-f-]{36}/)
    expect(bad.stdout + bad.stderr).not.toContain('wrong-but-long-secret-key')
    expect(bad.stdout + bad.stderr).not.toContain(local.secretKey)
  })

  it('invoke (async) -> status -> status --wait -> logs', async () => {
    const id = await invoke('work', '{"steps": 3}')
    const wait = await cli(['status', id, '--wait', '--timeout', '30s', '--json'])
    expect(wait.code, wait.stderr).toBe(0)
    const body = json(wait)
    expect(body).toMatchObject({ Result: { Status: 'FINISHED', StatusCode: 200, InvokeRequestId: id }, RequestId: expect.any(String), WaitedMs: expect.any(Number) })
    const human = await cli(['status', id])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(new RegExp(`^${id} +FINISHED +StatusCode 200`))
    const logs = await runCli(['events', 'logs', id, '--console', local.consoleUrl], cleanEnv())
    expect(logs.code, logs.stderr).toBe(0)
    expect(logs.stdout).toContain(`START RequestId: ${id}`)
    expect(logs.stdout).toContain('working: 3 steps')
    const logsJson = json(await cli(['logs', id, '--json']))
    expect(logsJson.requestId).toBe(id)
    expect(logsJson.lines[0]).toEqual({ time: expect.any(Number), stream: expect.any(String), line: expect.any(String) })
  })

  it('invoke --sync returns the result, or exits 1 with the error', async () => {
    const ok = await cli(['invoke', '-f', 'work-sync', '--sync', '-p', '{"steps": 1}'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(JSON.parse(ok.stdout)).toEqual({ steps: 1, stopped: false })
    const okJson = json(await cli(['invoke', '-f', 'work-sync', '--sync', '--json', '-p', '{"steps": 1}']))
    expect(okJson).toMatchObject({ Result: { FunctionRequestId: expect.any(String), RetMsg: '{"steps":1,"stopped":false}', InvokeResult: 0 }, RequestId: expect.any(String) })
    const failed = await cli(['invoke', '-f', 'work-sync', '--sync', '--log', '-p', '{"steps": 1, "fail": true}'])
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain('failed on purpose')
    const asyncJson = json(await cli(['invoke', '-f', 'work', '--json', '-p', '{"steps": 1}']))
    expect(asyncJson.Result.FunctionRequestId).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('list: table, --json shape, filters, paging, --all', async () => {
    const a = await invoke('work', '{"steps": 1}')
    const b = await invoke('work', '{"steps": 1}')
    for (const id of [a, b]) await until(`${id} ends`, async () => ((await statusOf(id)).Status === 'RUNNING' ? undefined : true))
    const human = await cli(['list', '-f', 'work'])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/REQUEST ID +STATUS +STARTED \(UTC\+8\)/)
    expect(human.stdout).toContain(b)
    const all = json(await cli(['list', '-f', 'work', '--all', '--json']))
    expect(all.TotalCount).toBeGreaterThanOrEqual(2)
    expect(all.EventList.length).toBe(all.TotalCount)
    expect(all.EventList[0]).toEqual({ InvokeRequestId: expect.any(String), InvokeType: 'OTHERS', Qualifier: '$LATEST', Status: expect.any(String), StartTime: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/), EndTime: expect.any(String) })
    const page2 = json(await cli(['list', '-f', 'work', '--limit', '1', '--offset', '1', '--order', 'asc', '--json']))
    expect(page2.EventList).toHaveLength(1)
    expect(page2.EventList[0].InvokeRequestId).toBe([...all.EventList].reverse()[1].InvokeRequestId)
    const finished = json(await cli(['list', '-f', 'work', '-s', 'finished', '--json', '--all']))
    expect(finished.EventList.length).toBeGreaterThan(0)
    expect(finished.EventList.every((e: { Status: string }) => e.Status === 'FINISHED')).toBe(true)
    const byId = json(await cli(['list', '-f', 'work', '--request-id', a, '--json']))
    expect(byId.EventList.map((e: { InvokeRequestId: string }) => e.InvokeRequestId)).toEqual([a])
    const recent = json(await cli(['list', '-f', 'work', '--started-from', '1h', '--json', '--limit', '100']))
    expect(recent.TotalCount).toBe(all.TotalCount)
    const old = await cli(['list', '-f', 'work', '--started-before', '2000-01-01 00:00:00', '--started-from', '1999-01-01 00:00:00'])
    expect(old.code).toBe(0)
    expect(old.stdout).toContain('no async events of work match these filters')
  })

  it('terminate --grace: the function stops itself, ABORTED/200, with the [PLATFORM] line', async () => {
    const id = await invoke('work')
    await waitRunning(id)
    const r = await cli(['terminate', id, '-f', 'work', '--grace', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(json(r)).toMatchObject({ requestId: id, functionName: 'work', namespace: 'default', outcome: 'graceful', graceSent: true, forceSent: false, status: 'ABORTED', statusCode: 200, elapsedMs: expect.any(Number), polls: expect.any(Number) })
    const logs = await runCli(['events', 'logs', id, '--console', local.consoleUrl], cleanEnv())
    expect(logs.stdout).toContain('[PLATFORM] Signal received successfully.')
    expect(logs.stdout).toMatch(/stopping after \d+ steps: SIGTERM/)
  })

  it('escalation: a function that ignores SIGTERM is terminated by force after the window', async () => {
    const id = await invoke('stubborn')
    await waitRunning(id)
    const r = await cli(['terminate', id, '-f', 'stubborn', '--grace', '--escalate-after', '1s'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain('terminating by force')
    expect(r.stdout).toMatch(new RegExp(`${id}: still RUNNING [\\d.]+s after SIGTERM, terminated by force: ABORTED \\(StatusCode 499\\)`))
    expect(await statusOf(id)).toMatchObject({ Status: 'ABORTED', StatusCode: 499 })
    const logs = await runCli(['events', 'logs', id, '--console', local.consoleUrl], cleanEnv())
    expect(logs.stdout).toContain('SIGTERM received; ignoring it')
  })

  it('--no-escalate reports a still RUNNING event (exit 1); force terminate ends it (499)', async () => {
    const id = await invoke('stubborn')
    await waitRunning(id)
    const patient = await cli(['terminate', id, '-f', 'stubborn', '--no-escalate', '--escalate-after', '500ms', '--json'])
    expect(patient.code).toBe(1)
    expect(json(patient)).toMatchObject({ outcome: 'still-running', graceSent: true, forceSent: false, status: 'RUNNING' })
    const force = await cli(['terminate', id, '-f', 'stubborn', '--json'])
    expect(force.code, force.stderr).toBe(0)
    expect(json(force)).toMatchObject({ outcome: 'forced', graceSent: false, forceSent: true, status: 'ABORTED', statusCode: 499 })
    const again = await cli(['terminate', id, '-f', 'stubborn'])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('FailedOperation.AsyncEventStatus')
    expect(again.stdout).toContain('already ABORTED')
  })

  it('bulk: terminate --status RUNNING ends every running event (graceful, then forced)', async () => {
    const ids = [await invoke('stubborn'), await invoke('stubborn'), await invoke('stubborn')]
    for (const id of ids) await waitRunning(id)
    const dry = json(await cli(['terminate', '-f', 'stubborn', '--status', 'RUNNING', '--dry-run', '--json']))
    expect(dry.events.sort()).toEqual([...ids].sort())
    // without a terminal, more than one event needs --yes: nothing is terminated
    const refused = await cli(['terminate', '-f', 'stubborn', '--status', 'RUNNING'])
    expect(refused.code, refused.stderr).toBe(2)
    expect(refused.stderr).toContain('3 RUNNING events of stubborn match: without a terminal to ask on, pass --yes')
    // on a terminal (a real pty, util-linux script) it shows the count and asks; "n" terminates nothing
    const hasScript = spawnSync('script', ['--version']).status === 0
    if (hasScript) {
      const cmd = `${process.execPath} ${cliPath} events terminate -f stubborn --status RUNNING`
      const env = cleanEnv({ SCF_GRACEFUL_ENDPOINT: local.url, TENCENTCLOUD_SECRETID: local.secretId, TENCENTCLOUD_SECRETKEY: local.secretKey })
      const asked = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', input: 'n\n', env, timeout: 60_000 })
      expect(asked.stdout).toContain('terminate 3 RUNNING events of stubborn by force (instances killed, /tmp lost)? [y/N]')
      expect(asked.stdout).toContain('nothing terminated')
      expect(asked.status).toBe(1)
    } else if (process.env.CI === 'true') throw new Error('`script` (util-linux) is not installed')
    else console.warn('SKIPPED the TTY confirmation check: `script` (util-linux) is not installed')
    expect(json(await cli(['list', '-f', 'stubborn', '-s', 'RUNNING', '--json'])).TotalCount).toBe(3)
    const r = await cli(['terminate', '-f', 'stubborn', '--status', 'RUNNING', '--grace', '--escalate-after', '1s', '--json', '--yes'])
    expect(r.code, r.stderr).toBe(0)
    const body = json(r)
    expect(body.events.map((e: { requestId: string }) => e.requestId).sort()).toEqual([...ids].sort())
    for (const e of body.events) expect(e).toMatchObject({ outcome: 'escalated', status: 'ABORTED', statusCode: 499 })
    expect(body.summary).toMatchObject({ total: 3, errors: 0, outcomes: { escalated: 3 } })
    const running = json(await cli(['list', '-f', 'stubborn', '-s', 'RUNNING', '--json']))
    expect(running.TotalCount).toBe(0)
    const nothing = await cli(['terminate', '-f', 'stubborn', '--status', 'RUNNING'])
    expect(nothing.code).toBe(0)
    expect(nothing.stdout).toContain('nothing to terminate')
  })

  it('API errors print Code, Message, RequestId and map to exit codes', async () => {
    const missing = await cli(['status', '00000000-0000-0000-0000-000000000000'])
    expect(missing.code).toBe(3)
    expect(missing.stderr).toMatch(/Code: +ResourceNotFound\.AsyncEvent\n +Message: +.+\n +RequestId: +[0-9a-f-]{36}/)
    const missingJson = await cli(['status', 'nope', '--json'])
    expect(missingJson.code).toBe(3)
    expect(json(missingJson)).toMatchObject({ Error: { Code: 'ResourceNotFound.AsyncEvent', Message: expect.any(String) }, RequestId: expect.any(String), ExitCode: 3 })
    expect((await cli(['list', '-f', 'ghost'])).code).toBe(3)
    expect((await cli(['terminate', '00000000-0000-0000-0000-000000000000', '-f', 'work'])).code).toBe(3)
    expect((await cli(['list', '-f', 'work', '--qualifier', '7'])).code).toBe(3)
    const down = await cli(['list', '-f', 'work', '--endpoint', 'http://127.0.0.1:1'])
    expect(down.code).toBe(4)
    expect(down.stderr).toContain('NetworkError')
    const noToken = await runCli(['events', 'logs', 'x', '--console', `${local.url}/console`, '--console-token', 'not-the-token'], cleanEnv())
    expect(noToken.code).toBe(5)
    const unknownLog = await runCli(['events', 'logs', 'no-such-event', '--console', local.consoleUrl], cleanEnv())
    expect(unknownLog.code).toBe(3)
  })

  it('credentials as Tencent\'s tools take them: flags, TENCENTCLOUD_SECRET_ID/_KEY, the SCF runtime names, tccli profiles', async () => {
    const env = (extra: Record<string, string>) => cleanEnv({ SCF_GRACEFUL_ENDPOINT: local.url, ...extra })
    const list = ['events', 'list', '-f', 'work', '--json']
    // tccli and the official SDKs' names
    const sdkNames = await runCli(list, env({ TENCENTCLOUD_SECRET_ID: local.secretId, TENCENTCLOUD_SECRET_KEY: local.secretKey }))
    expect(sdkNames.code, sdkNames.stderr).toBe(0)
    // they come before SCF's runtime names
    const both = await runCli(list, env({ TENCENTCLOUD_SECRET_ID: local.secretId, TENCENTCLOUD_SECRET_KEY: local.secretKey, TENCENTCLOUD_SECRETID: 'AKIDwrongwrongwrong', TENCENTCLOUD_SECRETKEY: 'wrong-wrong-wrong-wrong' }))
    expect(both.code, both.stderr).toBe(0)
    // flags come first of all
    const flags = await runCli([...list, '--secret-key', 'wrong-but-long-secret-key'], env({ TENCENTCLOUD_SECRET_ID: local.secretId, TENCENTCLOUD_SECRET_KEY: local.secretKey }))
    expect(flags.code).toBe(5)
    // a tccli profile: default, TCCLI_PROFILE, --profile; region from its .configure
    const home = mkdtempSync(join(tmpdir(), 'scfg-tccli-'))
    mkdirSync(join(home, '.tccli'))
    writeFileSync(join(home, '.tccli', 'default.credential'), JSON.stringify({ secretId: local.secretId, secretKey: local.secretKey }))
    writeFileSync(join(home, '.tccli', 'ops.credential'), JSON.stringify({ secretId: local.secretId, secretKey: 'ops-profile-wrong-key' }))
    writeFileSync(join(home, '.tccli', 'ops.configure'), JSON.stringify({ _sys_param: { region: 'ap-shanghai', output: 'json' } }))
    const byDefault = await runCli(list, env({ HOME: home }))
    expect(byDefault.code, byDefault.stderr).toBe(0)
    expect((await runCli(list, env({ HOME: home, TCCLI_PROFILE: 'ops' }))).code).toBe(5)
    expect((await runCli([...list, '--profile', 'ops'], env({ HOME: home }))).code).toBe(5)
    const missing = await runCli([...list, '--profile', 'nope'], env({ HOME: home }))
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('no tccli profile "nope"')
    // the cloud needs a region: the profile's counts
    const noRegion = await runCli(['events', 'list', '-f', 'work'], cleanEnv({ HOME: home }))
    expect(noRegion.stderr).toContain('no region')
    const cloudRegion = await runCli(['events', 'list', '-f', 'work', '--profile', 'ops', '--rate', '1000', '--retries', '0'], cleanEnv({ HOME: home }))
    expect(cloudRegion.stderr).not.toContain('no region')
  })

  it('logs work with the API credentials alone (no console token); escape sequences print as text, --json keeps them', async () => {
    const id = await invoke('escapes')
    await until(`${id} ended`, async () => ((await statusOf(id)).Status === 'RUNNING' ? undefined : true))
    const plain = await cli(['logs', id])
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stdout).not.toContain('\u001b')
    expect(plain.stdout).not.toContain('\u0007')
    expect(plain.stdout).toContain('title \\x1b]0;pwned\\x07 red \\x1b[31mRED\\x1b[0m clip \\x1b]52;c;ZXZpbA==\\x07 end')
    // one zone, printed: UTC+8 by default, --tz for another
    expect(plain.stdout).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3}\+08:00 stdout/m)
    expect((await cli(['logs', id, '--tz', 'UTC'])).stdout).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3}Z stdout/m)
    const asJson = json(await cli(['logs', id, '--json']))
    expect(asJson.lines.map((l: { line: string }) => l.line)).toContain('title \u001b]0;pwned\u0007 red \u001b[31mRED\u001b[0m clip \u001b]52;c;ZXZpbA==\u0007 end')
    const followed = await cli(['logs', id, '--follow'])
    expect(followed.code, followed.stderr).toBe(0)
    expect(followed.stderr).toContain('ended: FINISHED')
  })

  it('one time zone (UTC+8, printed) with --tz; did-you-mean for status names; NO_COLOR only when non-empty, FORCE_COLOR honoured', async () => {
    const id = await invoke('work', '{"steps": 1}')
    await until(`${id} ended`, async () => ((await statusOf(id)).Status === 'RUNNING' ? undefined : true))
    const cst = await cli(['list', '-f', 'work', '--request-id', id])
    expect(cst.stdout).toContain('STARTED (UTC+8)')
    const utc = await cli(['list', '-f', 'work', '--request-id', id, '--tz', 'UTC'])
    expect(utc.stdout).toContain('STARTED (UTC)')
    const started = (out: string) => Date.parse(`${/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.exec(out)![0].replace(' ', 'T')}Z`)
    expect(started(cst.stdout) - started(utc.stdout)).toBe(8 * 3600_000)
    const badTz = await cli(['list', '-f', 'work', '--tz', 'Mars/Olympus'])
    expect(badTz.code).toBe(2)
    const typo = await cli(['list', '-f', 'work', '-s', 'RUNING'])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toContain('did you mean RUNNING?')
    const forced = await cli(['list', '-f', 'work', '--request-id', id], { FORCE_COLOR: '1' })
    expect(forced.stdout).toContain('\u001b[')
    const emptyNoColor = await cli(['list', '-f', 'work', '--request-id', id], { FORCE_COLOR: '1', NO_COLOR: '' })
    expect(emptyNoColor.stdout).toContain('\u001b[')
    expect((await cli(['list', '-f', 'work', '--request-id', id], { NO_COLOR: '1' })).stdout).not.toContain('\u001b[')
  })

  it('logs --follow streams until the event ends', async () => {
    const id = await invoke('work')
    await waitRunning(id)
    let followed = ''
    const follow = runCli(['events', 'logs', id, '--console', local.consoleUrl, '--follow'], cleanEnv(), 60_000, (s) => (followed = s))
    // following: it printed the lines so far (the handler's are there: waitRunning saw them)
    await waitFor(() => followed.trim().length > 0, { what: () => 'the first lines of logs --follow' })
    const t = await cli(['terminate', id, '-f', 'work', '--grace'])
    expect(t.code, t.stderr).toBe(0)
    const r = await follow
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('[PLATFORM] Signal received successfully.')
    expect(r.stdout).toContain(`END RequestId: ${id}`)
    expect(r.stderr).toContain('ended: ABORTED (StatusCode 200)')
  })
})

describe('events CLI: RequestLimitExceeded', { timeout: 180_000 }, () => {
  let local: LocalEmulator
  beforeAll(async () => {
    local = await startLocal({ stubborn: fixture('stubborn.cjs') }, ['--rate-limit', '1'])
  })
  afterAll(async () => {
    await local?.stop()
  })

  it('retries with backoff, and exits 4 (unavailable) once the retries are spent', async () => {
    const inv = await eventsCli(local, ['invoke', '-f', 'stubborn'])
    expect(inv.code, inv.stderr).toBe(0)
    const id = inv.stdout.trim()
    // the emulator allows 1 GetAsyncEventStatus per second; --wait polls faster than that
    const spent = await eventsCli(local, ['status', id, '--wait', '--timeout', '5s', '--rate', '100', '--retries', '0'])
    expect(spent.code).toBe(4)
    expect(spent.stderr).toMatch(/Code: +RequestLimitExceeded/)
    const patient = await eventsCli(local, ['status', id, '--wait', '--timeout', '3s', '--rate', '100', '--retries', '8'])
    // still RUNNING when --timeout ends: exit 1, after riding out the limit with retries
    expect(patient.code, patient.stderr).toBe(1)
    expect(patient.stderr).toContain('hit RequestLimitExceeded; retry 1')
    await eventsCli(local, ['terminate', id, '-f', 'stubborn'])
  })
})
