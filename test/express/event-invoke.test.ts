// The /event-invoke contract of serveEventFunction, through a real child process and real HTTP.
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixture, post, spawnServer, type Spawned } from './helpers.js'

const SECRET_ID = 'AKIDtestSECRETid0123456789'
const SECRET_KEY = 'sEcReTkEy-never-in-logs-0123456789'
const TOKEN = 'session-token-never-in-logs-abcdef0123456789'
const scfHeaders = {
  'x-scf-request-id': 'req-headers-1',
  'x-scf-memory': '256',
  'x-scf-timeout': '3',
  'x-scf-name': 'my-fn',
  'x-scf-version': '7',
  'x-scf-namespace': 'prod',
  'x-scf-region': 'ap-shanghai',
  'x-scf-appid': '1250001234',
  'x-scf-uin': '100000009999',
  'x-scf-trigger-src': 'Timer',
  'x-scf-secret-id': SECRET_ID,
  'x-scf-secret-key': SECRET_KEY,
  'x-scf-session-token': TOKEN,
}

describe('serveEventFunction: /event-invoke', () => {
  let server: Spawned
  beforeAll(async () => {
    server = await spawnServer('server.mjs')
  })
  afterAll(async () => {
    server.kill()
    await server.exit
  })

  it('maps the X-Scf-* headers to the context, credentials included but not enumerable', async () => {
    const res = await post(server.port, { action: 'echo', n: 1 }, { headers: scfHeaders })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    const body = res.json()
    expect(body.event).toEqual({ action: 'echo', n: 1 })
    expect(body.context).toEqual({
      requestId: 'req-headers-1',
      memoryLimitMb: 256,
      timeLimitMs: 3000,
      functionName: 'my-fn',
      functionVersion: '7',
      namespace: 'prod',
      region: 'ap-shanghai',
      appId: '1250001234',
      uin: '100000009999',
      triggerSource: 'Timer',
    })
    expect(body.contextKeys).not.toContain('credentials')
    expect(body.credentials).toEqual({ secretIdLength: SECRET_ID.length, hasToken: true })
    expect(body.remaining).toBe(true)
  })

  it('maps a string result to text, a Buffer to bytes, undefined to JSON null', async () => {
    const text = await post(server.port, { action: 'text' })
    expect(text.status).toBe(200)
    expect(text.headers['content-type']).toMatch(/^text\/plain/)
    expect(text.body.toString()).toBe('hello text')
    const bytes = await post(server.port, { action: 'bytes' })
    expect(bytes.headers['content-type']).toBe('application/octet-stream')
    expect([...bytes.body]).toEqual([1, 2, 3, 255])
    const nothing = await post(server.port, { action: 'nothing' })
    expect(nothing.status).toBe(200)
    expect(nothing.body.toString()).toBe('null')
  })

  it('treats an empty body as an empty event', async () => {
    const res = await post(server.port, undefined, { raw: '' })
    expect(res.status).toBe(200)
    expect(res.json()).toEqual({ event: {} })
  })

  it('answers 400 with a stable code for malformed JSON', async () => {
    const res = await post(server.port, undefined, { raw: '{"action": nope', headers: { 'x-scf-request-id': 'req-bad' } })
    expect(res.status).toBe(400)
    expect(res.json()).toMatchObject({ errorCode: 'SCFG_ERR_EVENT_MALFORMED', requestId: 'req-bad' })
  })

  it('answers 405 with Allow: POST for other methods', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await post(server.port, undefined, { method, raw: '' })
      expect(res.status).toBe(405)
      expect(res.headers.allow).toBe('POST')
      expect(res.json().errorCode).toBe('SCFG_ERR_METHOD_NOT_ALLOWED')
    }
  })

  it('answers 413 for an event over the 6 MB default limit', async () => {
    const res = await post(server.port, { action: 'echo', pad: 'x'.repeat(6 * 1024 * 1024 + 10) })
    expect(res.status).toBe(413)
    expect(res.json().errorCode).toBe('SCFG_ERR_EVENT_TOO_LARGE')
  })

  it('answers 500 { errorCode, errorMessage, errorType, requestId } without a stack, and logs the full error', async () => {
    const res = await post(server.port, { action: 'throw', message: 'kaput' }, { headers: { 'x-scf-request-id': 'req-throw' } })
    expect(res.status).toBe(500)
    const body = res.json()
    expect(body).toEqual({ errorCode: 'SCFG_ERR_HANDLER_FAILED', errorMessage: 'boom: kaput', errorType: 'TypeError', requestId: 'req-throw' })
    expect(res.body.toString()).not.toMatch(/\bat /)
    await server.waitFor(/invocation failed requestId=req-throw error=TypeError: boom: kaput\n\s+at /)
  })

  it('answers 500 ResponseTooLarge for a result over 6 MB', async () => {
    const res = await post(server.port, { action: 'big', bytes: 6 * 1024 * 1024 + 1 })
    expect(res.status).toBe(500)
    expect(res.json()).toMatchObject({ errorCode: 'SCFG_ERR_RESPONSE_TOO_LARGE' })
    expect(res.json().errorMessage).toMatch(/^ResponseTooLarge/)
  })

  it('aborts an invocation timeoutMarginMs before X-Scf-Timeout', async () => {
    // 3 s: the default margin is then 300 ms, so a loaded machine still answers before the wrapper's own deadline
    const res = await post(server.port, { action: 'wait', ms: 30_000 }, { headers: { 'x-scf-request-id': 'req-timeout', 'x-scf-timeout': '3' } })
    expect(res.status).toBe(200)
    expect(res.json()).toEqual({ aborted: true, reason: 'timeout', requestId: 'req-timeout' })
  })

  it('never writes the credentials to its output, not even from an error message', async () => {
    const res = await post(server.port, { action: 'throw', leakSecret: true }, { headers: { ...scfHeaders, 'x-scf-request-id': 'req-leak' } })
    expect(res.status).toBe(500)
    expect(res.body.toString()).not.toContain(SECRET_KEY)
    await server.waitFor(/invocation failed requestId=req-leak/)
    await post(server.port, undefined, { raw: '{bad', headers: scfHeaders })
    await post(server.port, { action: 'echo' }, { headers: scfHeaders })
    const out = server.output()
    expect(out).toContain('key=***')
    for (const secret of [SECRET_ID, SECRET_KEY, TOKEN]) expect(out).not.toContain(secret)
  })
})

describe('serveEventFunction: options', () => {
  it('honours a configured body limit', async () => {
    const server = await spawnServer('server.mjs', { FIXTURE_BODY_LIMIT: '1000' })
    try {
      expect((await post(server.port, { action: 'echo', pad: 'x'.repeat(500) })).status).toBe(200)
      const res = await post(server.port, { action: 'echo', pad: 'x'.repeat(2000) })
      expect(res.status).toBe(413)
      expect(res.json().errorMessage).toContain('1000')
    } finally {
      server.kill()
      await server.exit
    }
  })

  it('a port already taken: says so and the process ends with code 1 (SCF would report 446)', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '0.0.0.0', resolve))
    const { port } = blocker.address() as { port: number }
    try {
      const child = spawn(process.execPath, [fixture('server.mjs')], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d))
      child.stderr.on('data', (d: Buffer) => (out += d))
      const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)))
      expect(out).toMatch(new RegExp(`could not listen host=0\\.0\\.0\\.0 port=${port} code=EADDRINUSE`))
      expect(code).toBe(1)
    } finally {
      blocker.close()
    }
  })
})
