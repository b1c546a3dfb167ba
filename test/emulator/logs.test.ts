// An event's log as SCF writes it: the function's own lines, a failure's message and stack, then END and Report,
// nothing of the event after Report (the lines of an instance being recycled included).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalServer } from '../../src/emulator/server.js'
import { startFunction, type FunctionInstance } from '../../src/testing/index.js'
import { waitFor } from '../setup/wait.js'
import { fixture, startEmulator, waitForEnd, type ScfClient } from './helpers.js'

let local: LocalServer
let scf: ScfClient
/** Every instance the emulator started, by entry (to know when an instance's last line is in). */
const started: Array<{ entry: string; fn: FunctionInstance }> = []

beforeAll(async () => {
  ;({ local, scf } = await startEmulator({
    startFunction: async (options) => {
      const fn = await startFunction(options)
      started.push({ entry: options.entry, fn })
      return fn
    },
    functions: [
      { name: 'chatty', entry: fixture('chatty.cjs') },
      { name: 'throws', entry: fixture('throws.cjs') },
      { name: 'library-throws', entry: fixture('library-throws.cjs') },
      { name: 'short-timeout', entry: fixture('sleeper.cjs'), timeoutMs: 500 },
    ],
  }))
})
afterAll(() => local?.close())

async function invokeAsync(name: string, event: unknown = {}): Promise<string> {
  const r = await scf.Invoke({ FunctionName: name, InvocationType: 'Event', ClientContext: JSON.stringify(event) })
  return r.Result.FunctionRequestId as string
}

function lines(id: string): string[] {
  return local.emulator.getEventLogs(id).map((l) => l.line)
}

describe('event log order', () => {
  it.each([
    ['returns', false],
    ['throws', true],
  ])('every line the handler logged before it %s comes before END and Report', async (_how, fail) => {
    const id = await invokeAsync('chatty', { lines: 300, fail })
    await waitForEnd(scf, id)
    const log = lines(id)
    const end = log.indexOf(`END RequestId: ${id}`)
    const report = log.findIndex((l) => l.startsWith(`Report RequestId: ${id}`))
    expect(end).toBeGreaterThan(0)
    expect(report).toBe(end + 1)
    const own = log.slice(0, end).filter((l) => /^(out|err) \d+$/.test(l))
    expect(own).toHaveLength(600)
    expect(log.slice(end).some((l) => /^(out|err) \d+$/.test(l))).toBe(false)
  })
})

describe('a failed event', () => {
  it('its log holds the error message and the handler stack, before END', async () => {
    const id = await invokeAsync('throws', { why: 'in the log' })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'FAILED', StatusCode: 430 })
    const log = lines(id)
    const end = log.indexOf(`END RequestId: ${id}`)
    const error = log.indexOf('Error: boom: in the log')
    expect(error).toBeGreaterThan(log.indexOf('about to fail'))
    expect(error).toBeLessThan(end)
    // the stack's frames follow the message, naming the function's file
    expect(log[error + 1]).toMatch(/^\s+at .*throws\.cjs/)
  })

  it('a timeout says so in the log', async () => {
    const id = await invokeAsync('short-timeout', { ms: 60_000 })
    expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'FAILED', StatusCode: 433 })
    const log = lines(id)
    expect(log.findIndex((l) => /^\[PLATFORM\] .*timeout.*\(status 433\)$/.test(l))).toBeGreaterThan(-1)
  })

  it('the lines of the instance being recycled come before Report, never after', async () => {
    for (let round = 0; round < 3; round++) {
      const id = await invokeAsync('library-throws', { why: `round ${round}` })
      expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'FAILED', StatusCode: 430 })
      // the recycled instance's exit counts once every line it wrote is read: after it, no stray line can arrive
      const entry = fixture('library-throws.cjs')
      await waitFor(() => started.filter((s) => s.entry === entry).every((s) => s.fn.isExited), { what: 'the recycled library-throws instance to exit', timeoutMs: 20_000 })
      const log = lines(id)
      const report = log.findIndex((l) => l.startsWith(`Report RequestId: ${id}`))
      expect(report).toBe(log.length - 1)
      expect(log).toContain(`TypeError: library boom: round ${round}`)
      expect(local.emulator.instanceCount('library-throws')).toBe(0)
    }
  })
})
