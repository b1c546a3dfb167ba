// The harness runs code as SCF does: on the exact runtime asked for (startFunction({ runtime })), the entry loaded
// with require() (an ES module entry fails as on SCF, with the fix in the message), SCF's handler strings, callback
// and sync handlers, SCF's environment variables and context fields. The emulator takes a runtime per function.
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFunction, type FunctionInstance } from '../../src/testing/index.js'
import { startLocalServer } from '../../src/emulator/server.js'
import { waitFor } from '../setup/wait.js'
import { describeOnRuntimes, unpackedZip } from './binaries.js'

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const VERSIONS = { 'Nodejs16.13': 'v16.13.0', 'Nodejs18.15': 'v18.15.0' } as const

let zip: { dir: string; remove(): Promise<void> }
beforeAll(async () => {
  zip = await unpackedZip(fixture('zip'))
})
afterAll(() => zip?.remove())

describe('loading code the way SCF does (host runtime)', () => {
  it('a function gets the host runtime when none is named', async () => {
    const fn = await startFunction({ entry: zip.dir, handler: 'index.main_handler' })
    try {
      expect(await fn.invoke({})).toMatchObject({ node: process.version })
    } finally {
      await fn.stop()
    }
  })

  it('an .mjs entry fails with SCFG_ERR_ENTRY_ESM, saying why and showing the CommonJS wrapper', async () => {
    const err = await startFunction({ entry: fixture('esm-entry.mjs') }).then(() => undefined, (e: unknown) => e)
    expect(err).toMatchObject({ code: 'SCFG_ERR_ENTRY_ESM' })
    expect((err as Error).message).toMatch(/is an ES module \(its extension is \.mjs\)/)
    expect((err as Error).message).toMatch(/require\(\)/)
    expect((err as Error).message).toContain("exports.main_handler = async (event, context) => {")
    expect((err as Error).message).toContain("await import('./app.mjs')")
  })

  it('an index.js under "type": "module" fails the same way', async () => {
    const err = await startFunction({ entry: fixture('esm-folder'), handler: 'index.main_handler' }).then(() => undefined, (e: unknown) => e)
    expect(err).toMatchObject({ code: 'SCFG_ERR_ENTRY_ESM' })
    expect((err as Error).message).toMatch(/says "type": "module"/)
  })

  it('the wrapper the message shows works', async () => {
    const fn = await startFunction({ entry: fixture('esm-wrapper.cjs') })
    try {
      expect(await fn.invoke({})).toEqual({ loaded: true })
    } finally {
      await fn.stop()
    }
  })

  it('a bad handler string is an option error', async () => {
    await expect(startFunction({ entry: zip.dir, handler: 'index.' })).rejects.toMatchObject({ code: 'SCFG_ERR_INVALID_OPTION' })
    await expect(startFunction({ entry: zip.dir, handler: '../x.main' })).rejects.toMatchObject({ code: 'SCFG_ERR_INVALID_OPTION' })
    await expect(startFunction({ entry: zip.dir, runtime: 'Nodejs20' as never })).rejects.toMatchObject({ code: 'SCFG_ERR_INVALID_OPTION', message: expect.stringContaining('Nodejs18.15') })
  })
})

describeOnRuntimes('the harness', (runtime, node) => {
  let fn: FunctionInstance
  beforeAll(async () => {
    fn = await startFunction({ entry: zip.dir, handler: 'index.main_handler', runtime, timeoutMs: 30_000, functionName: 'zip-fn' })
  })
  afterAll(() => fn?.stop())

  it('runs the process on the exact runtime', async () => {
    expect(await fn.invoke({})).toEqual({ node: VERSIONS[runtime], requestId: expect.any(String), functionName: 'zip-fn' })
    expect(node).toBeTruthy()
  })

  it('SIGTERM aborts the invocation with inv.signal.reason.reason === "SIGTERM"', async () => {
    const pending = fn.invoke({ wait: true })
    // the handler is running (it says so); then the platform's SIGTERM
    await waitFor(() => fn.logs.some((l) => l.line === 'waiting'), { what: () => `the handler's 'waiting' line; logs: ${fn.logs.map((l) => l.line).join(' | ')}` })
    fn.signal('SIGTERM')
    expect(await pending).toEqual({ stopped: 'SIGTERM', node: VERSIONS[runtime] })
  })

  it('callback handlers and sync returns work as on SCF', async () => {
    const cb = await startFunction({ entry: zip.dir, handler: 'index.callback_handler', runtime })
    const fail = await startFunction({ entry: zip.dir, handler: 'index.callback_error', runtime })
    const sync = await startFunction({ entry: zip.dir, handler: 'index.sync_handler', runtime })
    try {
      expect(await cb.invoke({ a: 1 })).toEqual({ callback: true, node: VERSIONS[runtime], event: { a: 1 } })
      await expect(fail.invoke({})).rejects.toMatchObject({ code: 'SCFG_ERR_HANDLER_FAILED', message: expect.stringContaining('callback failed') })
      expect(await sync.invoke({ b: 2 })).toEqual({ sync: true, got: { b: 2 } })
    } finally {
      await Promise.all([cb.stop(), fail.stop(), sync.stop()])
    }
  })

  it("SCF's context fields and environment variables are set", async () => {
    const raw = await startFunction({ entry: zip.dir, handler: 'index.raw_context', runtime, functionName: 'ctx-fn', namespace: 'team-a', memoryMb: 256, timeoutMs: 5000 })
    try {
      const { context, env } = (await raw.invoke({}, { requestId: 'req-ctx' })) as { context: Record<string, unknown>; env: Record<string, string> }
      expect(context).toMatchObject({
        request_id: 'req-ctx',
        function_name: 'ctx-fn',
        function_version: '$LATEST',
        namespace: 'team-a',
        memory_limit_in_mb: 256,
        time_limit_in_ms: 5000,
        callbackWaitsForEmptyEventLoop: true,
      })
      for (const key of ['tencentcloud_region', 'tencentcloud_appid', 'tencentcloud_uin', 'environment', 'environ']) expect(context[key], key).toEqual(expect.any(String))
      expect(context.environ).toContain('SCF_FUNCTIONNAME=ctx-fn')
      expect(env).toMatchObject({ SCF_FUNCTIONNAME: 'ctx-fn', SCF_FUNCTIONVERSION: '$LATEST', SCF_NAMESPACE: 'team-a' })
      for (const key of ['TENCENTCLOUD_REGION', 'TENCENTCLOUD_APPID', 'TENCENTCLOUD_UIN']) expect(env[key], key).toEqual(expect.any(String))
    } finally {
      await raw.stop()
    }
  })

  it('an ES module entry fails here too (require() on this runtime)', async () => {
    await expect(startFunction({ entry: fixture('esm-entry.mjs'), runtime })).rejects.toMatchObject({ code: 'SCFG_ERR_ENTRY_ESM' })
  })

  it('the emulator runs a function on the runtime its config names, with an SCF handler string', async () => {
    const local = await startLocalServer({ port: 0, rateLimit: false, startFunction, functions: [{ name: 'zip', entry: zip.dir, handler: 'index.main_handler', runtime, timeoutMs: 30_000, asyncRunEnable: false }] })
    try {
      const result = await local.emulator.call('Invoke', { FunctionName: 'zip', InvocationType: 'RequestResponse', ClientContext: '{}' })
      expect(JSON.stringify(result)).toContain(VERSIONS[runtime])
    } finally {
      await local.close()
    }
  })
})
