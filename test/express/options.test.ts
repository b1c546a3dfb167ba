// Bad options fail fast, naming the option and the value, before anything is installed or listened on.
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { fixture } from './helpers.js'
import { parseTarget } from '../../src/cli/commands/run-job.js'
import { encodeResult, errorBody } from '../../src/express/respond.js'
import { eventInvokeRouter, serveEventFunction } from '../../src/express/index.js'
import { ScfGracefulError, ShutdownError } from '../../src/errors.js'

const handler = async () => null

describe('options', () => {
  it.each([
    [{ port: -1 }, /option "port" must be a port number/],
    [{ port: 1.5 }, /option "port"/],
    [{ host: '' }, /option "host"/],
    [{ bodyLimit: 0 }, /option "bodyLimit" must be a whole number of bytes > 0, got 0/],
    [{ responseLimit: '6mb' }, /option "responseLimit" .* got "6mb"/],
  ])('serveEventFunction(%j) throws SCFG_ERR_INVALID_OPTION', (options, message) => {
    expect(() => serveEventFunction(handler, options as never)).toThrow(message)
    try {
      serveEventFunction(handler, options as never)
    } catch (err) {
      expect((err as ScfGracefulError).code).toBe('SCFG_ERR_INVALID_OPTION')
    }
  })

  it('eventInvokeRouter rejects a handler that is not a function', () => {
    expect(() => eventInvokeRouter('nope' as never, { bodyLimit: 10 })).toThrow(/option "handler"/)
  })
})

describe('result and error encoding', () => {
  it('maps strings to text, bytes to octet-stream, the rest to JSON', () => {
    expect(encodeResult('hí')).toEqual({ body: 'hí', bytes: 3, contentType: 'text/plain; charset=utf-8' })
    expect(encodeResult(Buffer.from('ab'))).toEqual({ body: Buffer.from('ab'), bytes: 2, contentType: 'application/octet-stream' })
    expect(encodeResult(new Uint8Array([1, 2])).contentType).toBe('application/octet-stream')
    expect(encodeResult(undefined).body.toString()).toBe('null')
    expect(encodeResult({ a: 1 }).body.toString()).toBe('{"a":1}')
    expect(encodeResult({ s: '€' }).bytes).toBe(Buffer.byteLength('{"s":"€"}'))
  })

  it('keeps library codes and never includes a stack', () => {
    expect(errorBody(new ShutdownError('SIGTERM', { code: 'SCFG_ERR_SHUTDOWN_DEADLINE' }), 'r')).toMatchObject({ errorCode: 'SCFG_ERR_SHUTDOWN_DEADLINE', errorType: 'ShutdownError', requestId: 'r' })
    expect(errorBody('plain string', undefined)).toMatchObject({ errorCode: 'SCFG_ERR_HANDLER_FAILED', errorMessage: 'plain string' })
    expect(Object.keys(errorBody(new Error('x'), 'r'))).not.toContain('stack')
  })
})

describe('run-job ENTRY[:EXPORT]', () => {
  it('splits off an identifier-like export only', () => {
    expect(parseTarget('job.mjs')).toEqual({ entry: 'job.mjs', exportName: undefined })
    expect(parseTarget('./dist/job.js:handler')).toEqual({ entry: './dist/job.js', exportName: 'handler' })
    expect(parseTarget('C:\\jobs\\job.mjs')).toEqual({ entry: 'C:\\jobs\\job.mjs', exportName: undefined })
  })
})

describe('EventFunctionServer.close()', () => {
  it('answers the in-flight invocation, stops listening, and leaves the process to end on its own', async () => {
    const child = spawn(process.execPath, [fixture('close.mjs')], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d))
    child.stderr.on('data', (d: Buffer) => (out += d))
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)))
    const line = out.split('\n').find((l) => l.startsWith('RESULT '))
    expect(line, out).toBeDefined()
    expect(JSON.parse(line!.slice(7))).toEqual({ slow: { status: 200, body: { aborted: false } }, after: 'ECONNREFUSED', listening: false })
    expect(out).not.toMatch(/shutdown reason=/)
    expect(code).toBe(0)
  })
})
