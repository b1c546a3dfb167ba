// ListAsyncEvents filters/ordering/paging, Invoke shapes, and every error path, through the official client
// (plus a few raw requests where the client cannot be made to send them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EventRow } from '../../src/emulator/event-db.js'
import { formatEventTime } from '../../src/emulator/event-time.js'
import type { LocalServer } from '../../src/emulator/server.js'
import { signTc3 } from '../../src/emulator/tc3.js'
import { apiError, client, fixture, startEmulator, waitForEnd, type ScfClient } from './helpers.js'

let local: LocalServer
let scf: ScfClient
const OFFSET = 480
// 25 seeded events of 'listed', one per second, an hour ago: 0..19 ended (FINISHED / FAILED / ABORTED), 20..24 RUNNING
const base = (Math.floor(Date.now() / 1000) - 3600) * 1_000_000
const seeded: EventRow[] = Array.from({ length: 25 }, (_, i) => ({
  requestId: `seed-${String(i).padStart(2, '0')}`,
  functionName: 'listed',
  namespace: 'default',
  qualifier: '$LATEST',
  invokeType: 'OTHERS',
  status: i >= 20 ? 'RUNNING' : (['FINISHED', 'FAILED', 'ABORTED'] as const)[i % 3] as EventRow['status'],
  statusCode: i >= 20 ? 0 : [200, 430, 499][i % 3] as number,
  startUs: base + i * 1_000_000,
  // ends in reverse order of starts, so ordering by EndTime differs from StartTime
  endUs: i >= 20 ? null : base + (100 - i) * 1_000_000,
  retMsg: null,
  errMsg: null,
}))
const sec = (us: number) => formatEventTime(us, OFFSET).slice(0, 19)

beforeAll(async () => {
  ;({ local, scf } = await startEmulator({
    functions: [
      { name: 'listed', entry: fixture('ok.cjs') },
      { name: 'ok', entry: fixture('ok.cjs') },
      { name: 'throws', entry: fixture('throws.cjs') },
      { name: 'ok-sync', entry: fixture('ok.cjs'), asyncRunEnable: false },
      { name: 'throws-sync', entry: fixture('throws.cjs'), asyncRunEnable: false },
      { name: 'other-ns', entry: fixture('ok.cjs'), namespace: 'team-a' },
    ],
  }))
  local.emulator.db.insertMany(seeded)
})
afterAll(() => local?.close())

const ids = (r: { EventList: Array<{ InvokeRequestId: string }> }) => r.EventList.map((e) => e.InvokeRequestId)

describe('ListAsyncEvents', () => {
  it('defaults: Limit 20, newest StartTime first, TotalCount of all matches, documented item shape', async () => {
    const r = await scf.ListAsyncEvents({ FunctionName: 'listed' })
    expect(r.TotalCount).toBe(25)
    expect(ids(r)).toEqual(seeded.map((e) => e.requestId).reverse().slice(0, 20))
    const finished = r.EventList.find((e: { InvokeRequestId: string }) => e.InvokeRequestId === 'seed-06')
    expect(Object.keys(finished).sort()).toEqual(['EndTime', 'InvokeRequestId', 'InvokeType', 'Qualifier', 'StartTime', 'Status'])
    expect(finished).toMatchObject({ InvokeType: 'OTHERS', Qualifier: '$LATEST', Status: 'FINISHED' })
    expect(finished.StartTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/)
    expect(finished.StartTime).toBe(formatEventTime(seeded[6]!.startUs, OFFSET))
    expect(r.EventList.find((e: { InvokeRequestId: string }) => e.InvokeRequestId === 'seed-22').EndTime).toBe('')
  })

  it('pages with Offset/Limit in ASC order without gaps or repeats', async () => {
    const got: string[] = []
    for (let offset = 0; offset < 30; offset += 7) got.push(...ids(await scf.ListAsyncEvents({ FunctionName: 'listed', Order: 'ASC', Offset: offset, Limit: 7 })))
    expect(got).toEqual(seeded.map((e) => e.requestId))
  })

  it('filters by Status, InvokeRequestId, Qualifier and InvokeType', async () => {
    const failed = await scf.ListAsyncEvents({ FunctionName: 'listed', Status: ['FAILED', 'RUNNING'], Limit: 100 })
    expect(failed.TotalCount).toBe(seeded.filter((e) => e.status === 'FAILED' || e.status === 'RUNNING').length)
    expect(new Set(failed.EventList.map((e: { Status: string }) => e.Status))).toEqual(new Set(['FAILED', 'RUNNING']))
    const one = await scf.ListAsyncEvents({ FunctionName: 'listed', InvokeRequestId: 'seed-07' })
    expect([one.TotalCount, ids(one)]).toEqual([1, ['seed-07']])
    expect((await scf.ListAsyncEvents({ FunctionName: 'listed', Qualifier: '$LATEST' })).TotalCount).toBe(25)
    expect((await scf.ListAsyncEvents({ FunctionName: 'listed', InvokeType: ['OTHERS'] })).TotalCount).toBe(25)
    expect((await scf.ListAsyncEvents({ FunctionName: 'listed', InvokeType: ['COS'] })).TotalCount).toBe(0)
  })

  it('StartTimeInterval / EndTimeInterval: Start inclusive, End exclusive, in UTC+8 like the real service', async () => {
    const byStart = await scf.ListAsyncEvents({ FunctionName: 'listed', Order: 'ASC', StartTimeInterval: { Start: sec(seeded[5]!.startUs), End: sec(seeded[10]!.startUs) } })
    expect(ids(byStart)).toEqual(['seed-05', 'seed-06', 'seed-07', 'seed-08', 'seed-09'])
    // ends: seed-i ended at base + (100 - i) s; [end of 12, end of 9) holds 12, 11, 10; RUNNING events never match
    const byEnd = await scf.ListAsyncEvents({ FunctionName: 'listed', Orderby: 'EndTime', Order: 'ASC', EndTimeInterval: { Start: sec(seeded[12]!.endUs!), End: sec(seeded[9]!.endUs!) } })
    expect(ids(byEnd)).toEqual(['seed-12', 'seed-11', 'seed-10'])
  })

  it('Orderby EndTime orders by when events ended', async () => {
    const r = await scf.ListAsyncEvents({ FunctionName: 'listed', Orderby: 'EndTime', Order: 'DESC', Status: ['FINISHED', 'FAILED', 'ABORTED'], Limit: 3 })
    expect(ids(r)).toEqual(['seed-00', 'seed-01', 'seed-02'])
  })

  it('rejects bad Limit, Order, Orderby, Status, InvokeType, Offset and time intervals with the documented codes', async () => {
    const code = async (req: Record<string, unknown>) => (await apiError(scf.ListAsyncEvents({ FunctionName: 'listed', ...req }))).code
    expect(await code({ Limit: 0 })).toBe('InvalidParameterValue.Limit')
    expect(await code({ Limit: 101 })).toBe('InvalidParameterValue.Limit')
    expect(await code({ Limit: 'ten' })).toBe('InvalidParameter')
    expect(await code({ Order: 'UP' })).toBe('InvalidParameterValue.Order')
    expect(await code({ Orderby: 'Name' })).toBe('InvalidParameterValue')
    expect(await code({ Status: ['DONE'] })).toBe('InvalidParameterValue.Status')
    expect(await code({ InvokeType: ['CARRIER_PIGEON'] })).toBe('InvalidParameterValue.InvokeType')
    expect(await code({ Offset: -1 })).toBe('InvalidParameterValue')
    expect(await code({ StartTimeInterval: { Start: 'yesterday', End: '2026-01-01 00:00:00' } })).toBe('InvalidParameterValue')
    expect(await code({ StartTimeInterval: { Start: '2026-02-30 00:00:00', End: '2026-03-01 00:00:00' } })).toBe('InvalidParameterValue')
    expect(await code({ EndTimeInterval: { Start: '2026-03-02 00:00:00', End: '2026-03-01 00:00:00' } })).toBe('InvalidParameterValue')
    expect(await code({ Qualifier: '7' })).toBe('ResourceNotFound.Version')
    expect(await code({ Bogus: 1 })).toBe('UnknownParameter')
  })

  it('unknown function, unknown namespace, malformed names', async () => {
    expect((await apiError(scf.ListAsyncEvents({ FunctionName: 'nobody' }))).code).toBe('ResourceNotFound.Function')
    expect((await apiError(scf.ListAsyncEvents({ FunctionName: 'ok', Namespace: 'nowhere' }))).code).toBe('ResourceNotFound.Namespace')
    expect((await apiError(scf.ListAsyncEvents({ FunctionName: 'bad name!' }))).code).toBe('InvalidParameterValue.FunctionName')
    expect((await apiError(scf.ListAsyncEvents({ FunctionName: 'ok', Namespace: 'bad ns!' }))).code).toBe('InvalidParameterValue.Namespace')
    expect((await apiError(scf.ListAsyncEvents({}))).code).toBe('MissingParameter')
    expect((await scf.ListAsyncEvents({ FunctionName: 'other-ns', Namespace: 'team-a' })).TotalCount).toBe(0)
  })
})

describe('Invoke', () => {
  it('RequestResponse returns the result synchronously in the SDK Result shape, with the log tail on LogType Tail', async () => {
    const r = await scf.Invoke({ FunctionName: 'ok-sync', ClientContext: '{"a":1}', LogType: 'Tail' })
    expect(Object.keys(r.Result).sort()).toEqual(['BillDuration', 'Duration', 'ErrMsg', 'FunctionRequestId', 'InvokeResult', 'Log', 'MemUsage', 'RetMsg'])
    expect(JSON.parse(r.Result.RetMsg)).toEqual({ ok: true, echo: { a: 1 } })
    expect(r.Result).toMatchObject({ ErrMsg: '', InvokeResult: 0 })
    expect(r.Result.Log).toContain('hello from ok')
    expect(r.RequestId).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('RequestResponse of a failing handler reports the error in ErrMsg and InvokeResult', async () => {
    const r = await scf.Invoke({ FunctionName: 'throws-sync', ClientContext: '{"why":"sync"}' })
    expect(r.Result.RetMsg).toBe('')
    expect(r.Result.InvokeResult).toBe(430)
    expect(JSON.parse(r.Result.ErrMsg)).toMatchObject({ statusCode: 430 })
    expect(r.Result.ErrMsg).toContain('boom: sync')
  })

  it('Event accepts 128 KB and rejects more (406 RequestTooLarge)', async () => {
    const fits = JSON.stringify({ pad: 'x'.repeat(128 * 1024 - 20) })
    const id = (await scf.Invoke({ FunctionName: 'ok', InvocationType: 'Event', ClientContext: fits })).Result.FunctionRequestId
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'FINISHED' })
    const tooBig = JSON.stringify({ pad: 'x'.repeat(128 * 1024) })
    const err = await apiError(scf.Invoke({ FunctionName: 'ok', InvocationType: 'Event', ClientContext: tooBig }))
    expect(err.code).toBe('InvalidParameterValue.Param')
    expect(err.message).toContain('406')
  })

  it('rejects an unknown function, a bad InvocationType and a ClientContext that is not JSON', async () => {
    expect((await apiError(scf.Invoke({ FunctionName: 'nobody' }))).code).toBe('ResourceNotFound.Function')
    expect((await apiError(scf.Invoke({ FunctionName: 'ok', InvocationType: 'Later' }))).code).toBe('InvalidParameterValue')
    expect((await apiError(scf.Invoke({ FunctionName: 'ok', ClientContext: '{not json' }))).code).toBe('InvalidParameterValue.Param')
  })
})

describe('signature, envelope and protocol errors', () => {
  it('wrong SecretKey: AuthFailure.SignatureFailure; unknown SecretId: AuthFailure.SecretIdNotFound', async () => {
    const wrongKey = client(local, { secretId: local.secretId, secretKey: 'not-the-key' })
    expect((await apiError(wrongKey.GetAsyncEventStatus({ InvokeRequestId: 'x' }))).code).toBe('AuthFailure.SignatureFailure')
    const wrongId = client(local, { secretId: 'AKIDnobody', secretKey: local.secretKey })
    expect((await apiError(wrongId.GetAsyncEventStatus({ InvokeRequestId: 'x' }))).code).toBe('AuthFailure.SecretIdNotFound')
  })

  async function raw(action: string, body: string, opts: { timestamp?: number; sign?: boolean; contentType?: string } = {}) {
    const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000)
    const headers: Record<string, string> = {
      'Content-Type': opts.contentType ?? 'application/json',
      Host: `127.0.0.1:${local.port}`,
      'X-TC-Action': action,
      'X-TC-Version': '2018-04-16',
      'X-TC-Timestamp': String(timestamp),
      'X-TC-Region': 'ap-guangzhou',
    }
    if (opts.sign !== false) headers.Authorization = signTc3({ secretId: local.secretId, secretKey: local.secretKey, timestamp, service: 'scf', headers, body })
    const res = await fetch(`${local.url}/`, { method: 'POST', headers, body })
    expect(res.status).toBe(200)
    return (await res.json()) as { Response: { Error?: { Code: string; Message: string }; RequestId: string } & Record<string, unknown> }
  }

  it('a correct raw request signed for service "scf" works; the envelope carries a RequestId', async () => {
    const r = await raw('ListAsyncEvents', JSON.stringify({ FunctionName: 'listed', Limit: 1 }))
    expect(r.Response.Error).toBeUndefined()
    expect(r.Response.TotalCount).toBe(25)
    expect(r.Response.RequestId).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('timestamp too far from the server clock: AuthFailure.SignatureExpire', async () => {
    const r = await raw('ListAsyncEvents', JSON.stringify({ FunctionName: 'listed' }), { timestamp: Math.floor(Date.now() / 1000) - 3600 })
    expect(r.Response.Error?.Code).toBe('AuthFailure.SignatureExpire')
    expect(typeof r.Response.Error?.Message).toBe('string')
    expect(r.Response.RequestId).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('no Authorization: AuthFailure.SignatureFailure; malformed JSON: InvalidParameter; unknown action: InvalidAction', async () => {
    expect((await raw('ListAsyncEvents', '{}', { sign: false })).Response.Error?.Code).toBe('AuthFailure.SignatureFailure')
    expect((await raw('ListAsyncEvents', '{"FunctionName": "listed",')).Response.Error?.Code).toBe('InvalidParameter')
    expect((await raw('ListAsyncEvents', '[1,2]')).Response.Error?.Code).toBe('InvalidParameter')
    expect((await raw('DeleteEverything', '{}')).Response.Error?.Code).toBe('InvalidAction')
    const viaSdk = await apiError((scf as unknown as { request(a: string, r: unknown): Promise<unknown> }).request('CreateFunction', {}))
    expect(viaSdk.code).toBe('InvalidAction')
  })
})

describe('rate limit', () => {
  it('answers RequestLimitExceeded over the per-action limit, and counts each action on its own', async () => {
    const limited = await startEmulator({ functions: [{ name: 'ok', entry: fixture('ok.cjs') }], rateLimit: 5 })
    try {
      const results = await Promise.all(
        Array.from({ length: 15 }, () => apiError(limited.scf.GetAsyncEventStatus({ InvokeRequestId: 'nope' }))),
      )
      const codes = results.map((r) => r.code)
      expect(codes).toContain('RequestLimitExceeded')
      expect(codes).toContain('ResourceNotFound.AsyncEvent')
      expect(codes.filter((c) => c === 'ResourceNotFound.AsyncEvent').length).toBeLessThanOrEqual(10)
      // another action has its own budget
      expect((await limited.scf.ListAsyncEvents({ FunctionName: 'ok' })).TotalCount).toBe(0)
    } finally {
      await limited.local.close()
    }
  })
})

describe('emulator.call (in-process, for the console)', () => {
  it('resolves with the Response payload without RequestId and rejects with { apiCode, message } like Response.Error', async () => {
    const page = await local.emulator.call('ListAsyncEvents', { FunctionName: 'listed', Limit: 2 })
    expect(page.TotalCount).toBe(25)
    expect(page).not.toHaveProperty('RequestId')
    const err = (await local.emulator.call('ListAsyncEvents', { FunctionName: 'listed', Limit: 500 }).catch((e: unknown) => e)) as { code: string; apiCode: string; message: string }
    // in the error family (issue 14 item 5): Tencent Cloud's code, the one Response.Error carries, is apiCode
    expect(err.code).toBe('SCFG_ERR_EMULATOR_API')
    expect(err.apiCode).toBe('InvalidParameterValue.Limit')
    expect(err.message).toMatch(/Limit/)
    expect(((await local.emulator.call('Nope', {}).catch((e: unknown) => e)) as { apiCode: string }).apiCode).toBe('InvalidAction')
    expect(local.emulator.listFunctions()).toContainEqual({ name: 'other-ns', namespace: 'team-a', mode: 'code', timeoutMs: 3000, qualifier: '$LATEST', asyncRunEnable: true, traceEnable: true })
  })
})
