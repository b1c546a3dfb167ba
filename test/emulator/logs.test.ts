// An event's log as SCF writes it: the function's own lines, then END and Report, nothing of the event after Report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalServer } from '../../src/emulator/server.js'
import { fixture, startEmulator, waitForEnd, type ScfClient } from './helpers.js'

let local: LocalServer
let scf: ScfClient

beforeAll(async () => {
  ;({ local, scf } = await startEmulator({ functions: [{ name: 'chatty', entry: fixture('chatty.mjs') }] }))
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
