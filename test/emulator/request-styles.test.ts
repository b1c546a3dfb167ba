// Every request style the API documents, each driven by the official Node SDK's own options: GET with a query string
// (TC3), signature v1 (HmacSHA1 / HmacSHA256) over form POST and GET; wrong and expired v1 signatures fail with the
// TC3 codes. And the per-action rate limits (Invoke 100/s, event APIs 20/s).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { RateLimiter, rateLimitOf } from '../../src/emulator/api.js'
import type { LocalServer } from '../../src/emulator/server.js'
import { signTc3 } from '../../src/emulator/tc3.js'
import { apiError, client, fixture, startEmulator, waitForEnd, waitForLog, type ScfClient } from './helpers.js'

let local: LocalServer

beforeAll(async () => {
  ;({ local } = await startEmulator({
    functions: [
      { name: 'ok', entry: fixture('ok.cjs') },
      { name: 'ok-sync', entry: fixture('ok.cjs'), asyncRunEnable: false },
      { name: 'graceful-loop', entry: fixture('graceful-loop.cjs'), timeoutMs: 30_000 },
    ],
  }))
})
afterAll(() => local?.close())

const styles = [
  { name: 'GET, TC3', style: { reqMethod: 'GET' as const } },
  { name: 'form POST, signature v1 HmacSHA1', style: { signMethod: 'HmacSHA1' as const } },
  { name: 'form POST, signature v1 HmacSHA256', style: { signMethod: 'HmacSHA256' as const } },
  { name: 'GET, signature v1 HmacSHA1', style: { reqMethod: 'GET' as const, signMethod: 'HmacSHA1' as const } },
  { name: 'GET, signature v1 HmacSHA256', style: { reqMethod: 'GET' as const, signMethod: 'HmacSHA256' as const } },
]

describe.each(styles)('$name', ({ style }) => {
  let scf: ScfClient
  beforeAll(() => {
    scf = client(local, undefined, style)
  })

  it('every action with every kind of parameter (strings, JSON strings, lists, time intervals, integers, booleans)', async () => {
    const sync = await scf.Invoke({ FunctionName: 'ok-sync', ClientContext: JSON.stringify({ text: 'a b&c=d+é', n: 1 }), LogType: 'Tail' })
    expect(JSON.parse(sync.Result.RetMsg)).toEqual({ ok: true, echo: { text: 'a b&c=d+é', n: 1 } })
    const direct = await scf.InvokeFunction({ FunctionName: 'ok-sync', Event: '{"x":[1,2]}', RoutingKey: '{"k":"v"}' })
    expect(JSON.parse(direct.Result.RetMsg)).toEqual({ ok: true, echo: { x: [1, 2] } })

    const id = (await scf.Invoke({ FunctionName: 'graceful-loop', InvocationType: 'Event', ClientContext: '{}' })).Result.FunctionRequestId as string
    await waitForLog(local, id, /loop started/)
    const list = await scf.ListAsyncEvents({
      FunctionName: 'graceful-loop',
      Status: ['RUNNING', 'FINISHED'],
      InvokeType: ['OTHERS'],
      StartTimeInterval: { Start: '2020-01-01 00:00:00', End: '2099-01-01 00:00:00' },
      Limit: 100,
      Offset: 0,
      Order: 'ASC',
      InvokeRequestId: id,
    })
    expect(list.EventList).toEqual([expect.objectContaining({ InvokeRequestId: id, Status: 'RUNNING' })])
    expect((await scf.GetAsyncEventStatus({ InvokeRequestId: id })).Result).toMatchObject({ Status: 'RUNNING' })
    // a boolean parameter: GraceShutdown=true must read as true (SIGTERM), not as a force termination
    await scf.TerminateAsyncEvent({ FunctionName: 'graceful-loop', InvokeRequestId: id, GraceShutdown: true })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'ABORTED', StatusCode: 200 })
    expect(local.emulator.getEventLogs(id).map((l) => l.line)).toContain('[PLATFORM] Signal received successfully.')
  })

  it('parameter errors keep their codes', async () => {
    expect((await apiError(scf.ListAsyncEvents({ FunctionName: 'ok', Limit: 500 }))).code).toBe('InvalidParameterValue.Limit')
    expect((await apiError(scf.ListAsyncEvents({ FunctionName: 'ok', Status: ['DONE'] }))).code).toBe('InvalidParameterValue.Status')
    expect((await apiError(scf.GetAsyncEventStatus({ InvokeRequestId: 'nope' }))).code).toBe('ResourceNotFound.AsyncEvent')
    expect((await apiError(scf.ListAsyncEvents({ FunctionName: 'ok', Bogus: 'x' }))).code).toBe('UnknownParameter')
  })

  it('a wrong SecretKey: AuthFailure.SignatureFailure; an unknown SecretId: AuthFailure.SecretIdNotFound', async () => {
    const wrongKey = client(local, { secretId: local.secretId, secretKey: 'not-the-key' }, style)
    expect((await apiError(wrongKey.GetAsyncEventStatus({ InvokeRequestId: 'x' }))).code).toBe('AuthFailure.SignatureFailure')
    const wrongId = client(local, { secretId: 'AKIDnobody', secretKey: local.secretKey }, style)
    expect((await apiError(wrongId.GetAsyncEventStatus({ InvokeRequestId: 'x' }))).code).toBe('AuthFailure.SecretIdNotFound')
  })
})

describe('signature v1: expired and tampered requests', () => {
  /** Parameters signed by the SDK's own v1 code, with its clock set `skewS` seconds off. */
  async function sdkSigned(signMethod: 'HmacSHA1' | 'HmacSHA256', skewS: number, reqMethod: 'GET' | 'POST'): Promise<Record<string, string>> {
    const scf = client(local, undefined, { signMethod, reqMethod }) as unknown as { formatRequestData(a: string, p: object): Promise<Record<string, unknown>> }
    const real = Date.now()
    const spy = vi.spyOn(Date, 'now').mockReturnValue(real + skewS * 1000)
    try {
      const p = await scf.formatRequestData('GetAsyncEventStatus', { InvokeRequestId: 'x' })
      return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)]))
    } finally {
      spy.mockRestore()
    }
  }

  async function send(method: 'GET' | 'POST', params: Record<string, string>) {
    const qs = new URLSearchParams(params).toString()
    const res = method === 'GET' ? await fetch(`${local.url}/?${qs}`) : await fetch(`${local.url}/`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: qs })
    return ((await res.json()) as { Response: { Error?: { Code: string } } }).Response
  }

  it.each([
    ['HmacSHA1', 'GET'],
    ['HmacSHA256', 'POST'],
  ] as const)('%s over %s: an hour-old signature is AuthFailure.SignatureExpire, a changed parameter AuthFailure.SignatureFailure', async (signMethod, method) => {
    expect((await send(method, await sdkSigned(signMethod, 0, method))).Error?.Code).toBe('ResourceNotFound.AsyncEvent')
    expect((await send(method, await sdkSigned(signMethod, -3600, method))).Error?.Code).toBe('AuthFailure.SignatureExpire')
    const tampered = { ...(await sdkSigned(signMethod, 0, method)), InvokeRequestId: 'y' }
    expect((await send(method, tampered)).Error?.Code).toBe('AuthFailure.SignatureFailure')
    const unknownMethod = { ...(await sdkSigned(signMethod, 0, method)), SignatureMethod: 'HmacMD5' }
    expect((await send(method, unknownMethod)).Error?.Code).toBe('InvalidParameterValue')
  })

  it('a v1 request without its Signature is MissingParameter', async () => {
    const { Signature: _drop, ...rest } = await sdkSigned('HmacSHA1', 0, 'GET')
    expect((await send('GET', rest)).Error?.Code).toBe('MissingParameter')
  })
})

describe('form POST signed TC3', () => {
  it('works like the JSON body (as other clients send it)', async () => {
    const body = new URLSearchParams({ FunctionName: 'ok', 'Status.0': 'FINISHED', Limit: '5' }).toString()
    const timestamp = Math.floor(Date.now() / 1000)
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      Host: `127.0.0.1:${local.port}`,
      'X-TC-Action': 'ListAsyncEvents',
      'X-TC-Version': '2018-04-16',
      'X-TC-Timestamp': String(timestamp),
    }
    headers.Authorization = signTc3({ secretId: local.secretId, secretKey: local.secretKey, timestamp, service: 'scf', headers, body })
    const r = (await (await fetch(`${local.url}/`, { method: 'POST', headers, body })).json()) as { Response: Record<string, unknown> }
    expect(r.Response.Error).toBeUndefined()
    expect(r.Response).toMatchObject({ TotalCount: expect.any(Number), EventList: expect.any(Array) })
  })
})

describe('rate limits', () => {
  it('by default Invoke and InvokeFunction take 100 requests a second, the event APIs 20', () => {
    const limiter = new RateLimiter((action) => rateLimitOf(action as never, undefined))
    const fits = (action: string) => Array.from({ length: 150 }, () => limiter.take(action, 1000)).filter(Boolean).length
    expect(fits('Invoke')).toBe(100)
    expect(fits('InvokeFunction')).toBe(100)
    expect(fits('ListAsyncEvents')).toBe(20)
    expect(fits('GetAsyncEventStatus')).toBe(20)
    expect(fits('TerminateAsyncEvent')).toBe(20)
    // a second later the window has room again
    expect(limiter.take('Invoke', 2000)).toBe(true)
    // one configured number applies to every action
    expect(rateLimitOf('Invoke', 7)).toBe(7)
  })

  it('the server answers RequestLimitExceeded only past each action own limit', async () => {
    const limited = await startEmulator({ functions: [{ name: 'ok', entry: fixture('ok.cjs') }], rateLimit: undefined })
    try {
      // 40 Invoke requests at once fit in 100/s (they fail on a missing function, after the limiter)
      const invokes = await Promise.all(Array.from({ length: 40 }, () => apiError(limited.scf.Invoke({ FunctionName: 'nobody' }))))
      expect(invokes.map((r) => r.code)).not.toContain('RequestLimitExceeded')
      const gets = await Promise.all(Array.from({ length: 40 }, () => apiError(limited.scf.GetAsyncEventStatus({ InvokeRequestId: 'nope' }))))
      expect(gets.map((r) => r.code)).toContain('RequestLimitExceeded')
    } finally {
      await limited.local.close()
    }
  })
})
