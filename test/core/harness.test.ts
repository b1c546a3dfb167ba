import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InvocationError, startFunction, type StartFunctionOptions } from '../../src/testing/index.js'
import { fixture, useInstances } from './helpers.js'
import { waitFor } from '../setup/wait.js'

const startInstance = useInstances()
const start = (handler: string, options: Partial<StartFunctionOptions> = {}) => startInstance(fixture('basics.cjs'), { handler, ...options })

describe('startFunction (code mode)', () => {
  it('calls a callback-style CommonJS handler with an SCF-like context, and reuses the process', async () => {
    const fn = await start('callback_handler', { timeoutMs: 5000 })
    const a = (await fn.invoke({ n: 1 }, { requestId: 'req-1' })) as Record<string, unknown>
    const b = (await fn.invoke({ n: 2 })) as Record<string, unknown>
    expect(a).toEqual({ echo: { n: 1 }, requestId: 'req-1', limit: 5000 })
    expect(b.echo).toEqual({ n: 2 })
    expect(typeof b.requestId).toBe('string')
    expect(fn.isExited).toBe(false)
  })

  it('reports a handler error as status 430 with its message and type', async () => {
    const fn = await start('throwing_handler')
    const err = (await fn.invoke({}).catch((e: unknown) => e)) as InvocationError
    expect(err).toBeInstanceOf(InvocationError)
    expect(err.code).toBe('SCFG_ERR_HANDLER_FAILED')
    expect([err.statusCode, err.errorType, err.errorMessage]).toEqual([430, 'TypeError', 'bad input'])
  })

  it('kills an invocation that runs past its timeout: status 433, instance recycled', async () => {
    const fn = await start('hang_handler', { timeoutMs: 300 })
    const err = (await fn.invoke({}).catch((e: unknown) => e)) as InvocationError
    expect([err.code, err.statusCode]).toEqual(['SCFG_ERR_INSTANCE_TIMEOUT', 433])
    expect(fn.isExited).toBe(true)
  })

  it('terminate({ grace: false }) kills at once and wipes the tmp dir: status 499', async () => {
    const fn = await start('write_tmp', { timeoutMs: 30_000 })
    const pending = fn.invoke({}).catch((e: unknown) => e)
    const file = join(fn.tmpDir, 'state.txt')
    await waitFor(() => existsSync(file), { what: `the handler's ${file}` })
    const info = await fn.terminate({ grace: false })
    expect(info.signal).toBe('SIGKILL')
    const err = (await pending) as InvocationError
    expect([err.code, err.statusCode]).toEqual(['SCFG_ERR_INSTANCE_TERMINATED', 499])
    expect(existsSync(fn.tmpDir)).toBe(false)
  })

  it('fails clearly when the handler is not exported', async () => {
    await expect(startFunction({ entry: fixture('basics.cjs'), handler: 'nope' })).rejects.toMatchObject({ code: 'SCFG_ERR_HANDLER_NOT_FOUND' })
  })

  it('fails fast on bad options, naming the option', async () => {
    await expect(startFunction({ entry: '' })).rejects.toMatchObject({ code: 'SCFG_ERR_INVALID_OPTION', message: expect.stringContaining('"entry"') })
    await expect(startFunction({ entry: fixture('basics.cjs'), timeoutMs: -1 })).rejects.toMatchObject({ code: 'SCFG_ERR_INVALID_OPTION', message: expect.stringContaining('"timeoutMs"') })
  })
})

describe('startFunction logs', () => {
  const startChatty = (handler = 'main_handler') => startInstance(fixture('chatty.cjs'), { handler, timeoutMs: 30_000 })

  it('has every line the function logged on either stream by the time invoke() resolves', async () => {
    const fn = await startChatty()
    // the stdio pipes and the IPC channel race: without the harness's sync, some rounds lose their last lines
    for (let round = 0; round < 30; round++) {
      expect(await fn.invoke({ round, lines: round % 3 === 0 ? 2000 : 1 })).toEqual({ round })
      const seen = fn.logs.filter((l) => l.line.startsWith('last ')).map((l) => `${l.stream}: ${l.line}`)
      // each stream keeps its own order; the two streams interleave as they arrive
      expect(seen).toContain(`stdout: last stdout line of ${round}`)
      expect(seen).toContain(`stderr: last stderr line of ${round}`)
    }
    expect(fn.logs.some((l) => l.line.includes('scfg-sync'))).toBe(false)
  }, 60_000)

  it('keeps a partial last line, reports an unserializable result as a 430, and survives muted stdio', async () => {
    const partial = await startChatty('partial_handler')
    expect(await partial.invoke({})).toBe('ok')
    expect(partial.logs.map((l) => l.line)).toContain('progress 100%')

    const circular = await startChatty('circular_handler')
    const err = (await circular.invoke({}).catch((e: unknown) => e)) as InvocationError
    expect(err).toBeInstanceOf(InvocationError)
    expect([err.statusCode, err.errorType]).toEqual([430, 'TypeError'])
    expect(circular.isExited).toBe(false)

    const muted = await startChatty('muted_handler')
    expect(await muted.invoke({})).toBe('muted')
  })
})
