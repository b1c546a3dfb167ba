// >= 5,000 malformed requests (seeded): random bodies, headers, methods, actions and parameters, some correctly
// signed so they reach validation. The emulator never crashes, never answers InternalError, and every answer is a
// proper API 3.0 envelope on HTTP 200.
import { Agent, request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalServer } from '../../src/emulator/server.js'
import { signTc3 } from '../../src/emulator/tc3.js'
import { fixture, startEmulator, type ScfClient } from './helpers.js'

const SEED = Number(process.env.FUZZ_SEED ?? 20261129)
const COUNT = 5200

function mulberry32(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

let local: LocalServer
let scf: ScfClient
beforeAll(async () => {
  ;({ local, scf } = await startEmulator({ functions: [{ name: 'ok', entry: fixture('ok.cjs') }], concurrency: 4 }))
})
afterAll(() => local?.close())

describe('fuzz', () => {
  it(`answers ${COUNT} malformed requests (seed ${SEED}) with proper envelopes and keeps serving`, async () => {
    const rnd = mulberry32(SEED)
    const int = (n: number) => Math.floor(rnd() * n)
    const pick = <T,>(xs: readonly T[]): T => xs[int(xs.length)] as T
    const ACTIONS = ['Invoke', 'ListAsyncEvents', 'GetAsyncEventStatus', 'TerminateAsyncEvent', 'ListFunctions', '', 'invoke', 'Invoke ', '../../etc', 'A'.repeat(300)]
    const KEYS = ['FunctionName', 'Namespace', 'Qualifier', 'InvokeType', 'Status', 'StartTimeInterval', 'EndTimeInterval', 'Order', 'Orderby', 'Offset', 'Limit', 'InvokeRequestId', 'InvocationType', 'ClientContext', 'LogType', 'GraceShutdown', 'RoutingKey', '__proto__', 'constructor', 'Start', '', 'x'.repeat(100)]
    const STRINGS = ['ok', 'nope', '', ' ', 'ASC', 'DESC', 'StartTime', 'EndTime', 'RUNNING', 'FAILED', 'Event', 'RequestResponse', 'Tail', '$LATEST', 'default', '2026-01-01 00:00:00', '2026-13-45 99:99:99', '{}', '{"a":1}', '{bad', 'null', '\u0000', '\ud800', '💥', 'é'.repeat(50), 'x'.repeat(5000), '../..', '%00', 'DROP TABLE events;--', "' OR 1=1 --"]
    const value = (depth = 0): unknown => {
      switch (int(depth > 2 ? 6 : 9)) {
        case 0: return pick(STRINGS)
        case 1: return pick([0, -1, 1, 20, 100, 101, 1e308, -0, 0.5, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2])
        case 2: return pick([true, false, null])
        case 3: return pick(STRINGS)
        case 4: return String(int(1e6))
        case 5: return pick(['ok', 'nope'])
        case 6: return Array.from({ length: int(4) }, () => value(depth + 1))
        case 7: return { Start: value(depth + 1), End: value(depth + 1) }
        default: return params(depth + 1)
      }
    }
    const params = (depth = 0): Record<string, unknown> => {
      const o: Record<string, unknown> = {}
      for (let i = int(5); i > 0; i--) o[pick(KEYS)] = value(depth)
      if (rnd() < 0.5) o.FunctionName = pick(['ok', 'nope', 'bad name', 1, null])
      return o
    }
    const body = (): string | Buffer => {
      switch (int(8)) {
        case 0: return Buffer.from(Array.from({ length: int(200) }, () => int(256)))
        case 1: return ''
        case 2: return JSON.stringify(value())
        case 3: return JSON.stringify(params()).slice(0, -1 - int(3))
        case 4: return `{"FunctionName":"ok","Limit":${'9'.repeat(int(400))}}`
        default: return JSON.stringify(params())
      }
    }

    const agent = new Agent({ keepAlive: true, maxSockets: 16 })
    const send = (method: string, path: string, headers: Record<string, string>, payload: string | Buffer) =>
      new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: local.port, method, path, headers, agent }, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text: Buffer.concat(chunks).toString(), desc: `${method} ${path} ${JSON.stringify(headers)}` } as never))
          res.on('error', reject)
        })
        req.on('error', reject)
        req.end(payload)
      })

    const codes = new Map<string, number>()
    let sent = 0
    let signedCount = 0
    const one = async () => {
      const payload = body()
      const timestamp = pick([Math.floor(Date.now() / 1000), Math.floor(Date.now() / 1000), Math.floor(Date.now() / 1000) - 10_000, 0])
      const headers: Record<string, string> = {
        'Content-Type': pick(['application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'multipart/form-data', '']),
        Host: `127.0.0.1:${local.port}`,
        'X-TC-Action': pick(ACTIONS),
        'X-TC-Version': pick(['2018-04-16', '2018-04-16', '2018-04-16', '2017-01-01', '']),
        'X-TC-Timestamp': pick([String(timestamp), String(timestamp), 'abc', '-5', '99999999999999999', '']),
        'X-TC-Region': 'ap-guangzhou',
      }
      for (const k of Object.keys(headers)) if (rnd() < 0.04) delete headers[k]
      const mode = int(10)
      if (mode < 6) {
        signedCount++
        const claimed = Number(headers['X-TC-Timestamp'])
        const signAt = Number.isSafeInteger(claimed) && Math.abs(claimed) < 1e11 ? claimed : timestamp
        headers.Authorization = signTc3({ secretId: local.secretId, secretKey: local.secretKey, timestamp: signAt, service: pick(['scf', '127', 'anything']), headers, body: payload })
        // sometimes the body changes after signing
        if (mode === 5) return send('POST', '/', headers, Buffer.concat([Buffer.from(payload), Buffer.from(' ')]))
      } else if (mode === 6) {
        headers.Authorization = pick(['', 'TC3-HMAC-SHA256', 'Basic abc', `TC3-HMAC-SHA256 Credential=${local.secretId}/2026-01-01/scf/tc3_request, SignedHeaders=content-type;host, Signature=${'0'.repeat(64)}`, 'TC3-HMAC-SHA256 Credential=/////, SignedHeaders=;;;, Signature=zz'])
      }
      return send(pick(['POST', 'POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH']), pick(['/', '/', '/', '/?a=1', '/x', '//', '/%2e%2e/']), headers, payload)
    }

    const failures: string[] = []
    const worker = async () => {
      while (sent < COUNT) {
        sent++
        const res = await one()
        let parsed: { Response?: { RequestId?: unknown; Error?: { Code?: unknown; Message?: unknown } } }
        try {
          parsed = JSON.parse(res.text)
        } catch {
          failures.push(`not JSON (${res.status}): ${res.text.slice(0, 100)} ${(res as { desc?: string }).desc ?? ''}`)
          continue
        }
        const r = parsed.Response
        const ok = res.status === 200 && res.type.startsWith('application/json') && typeof r?.RequestId === 'string' &&
          (r.Error === undefined || (typeof r.Error.Code === 'string' && r.Error.Code !== '' && typeof r.Error.Message === 'string'))
        if (!ok) failures.push(`bad envelope (${res.status}): ${res.text.slice(0, 200)}`)
        const code = typeof r?.Error?.Code === 'string' ? r.Error.Code : 'OK'
        codes.set(code, (codes.get(code) ?? 0) + 1)
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    agent.destroy()

    expect(failures.slice(0, 5)).toEqual([])
    expect(sent).toBeGreaterThanOrEqual(5000)
    expect(signedCount).toBeGreaterThan(2000)
    expect(codes.get('InternalError') ?? 0).toBe(0)
    // the requests reached every layer: auth, action, JSON, parameter validation
    for (const code of ['AuthFailure.SignatureFailure', 'AuthFailure.SignatureExpire', 'InvalidAction', 'InvalidParameter', 'UnknownParameter', 'MissingParameter', 'UnsupportedProtocol']) {
      expect(codes.get(code), `${code} in ${JSON.stringify([...codes])}`).toBeGreaterThan(0)
    }
    // and it still serves a normal client afterwards
    expect((await scf.ListAsyncEvents({ FunctionName: 'ok' })).TotalCount).toBeGreaterThanOrEqual(0)
  })
})
