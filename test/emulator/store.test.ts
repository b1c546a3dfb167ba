// Event records and logs in SQLite under the data dir: they survive a restart; events RUNNING when the emulator
// died end FAILED/500; ended events are purged after the retention.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EventDb } from '../../src/emulator/event-db.js'
import { nowUs } from '../../src/emulator/event-time.js'
import { apiError, fixture, startEmulator, waitForEnd } from './helpers.js'

let dataDir: string
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'scfg-emulator-data-'))
})
afterAll(() => rm(dataDir, { recursive: true, force: true }))

const functions = [
  { name: 'ok', entry: fixture('ok.cjs') },
  { name: 'sleeper', entry: fixture('sleeper.cjs'), timeoutMs: 30_000 },
]

describe('event store', () => {
  it('keeps event records and their logs across a restart', async () => {
    const first = await startEmulator({ functions, dataDir })
    const id = (await first.scf.Invoke({ FunctionName: 'ok', InvocationType: 'Event', ClientContext: '{}' })).Result.FunctionRequestId
    await waitForEnd(first.scf, id)
    await first.local.close()

    const second = await startEmulator({ functions, dataDir })
    try {
      expect((await second.scf.GetAsyncEventStatus({ InvokeRequestId: id })).Result).toMatchObject({ Status: 'FINISHED', StatusCode: 200 })
      const listed = await second.scf.ListAsyncEvents({ FunctionName: 'ok', InvokeRequestId: id })
      expect(listed.TotalCount).toBe(1)
      expect(second.local.emulator.getEventLogs(id).map((l) => l.line)).toContain('hello from ok')
    } finally {
      await second.local.close()
    }
  })

  it('ends events that were RUNNING when the emulator died as FAILED/500, with a [PLATFORM] line', async () => {
    // what a killed emulator leaves behind: a RUNNING row nobody will finish
    const db = await EventDb.open(dataDir)
    db.insert({ requestId: 'orphan-1', functionName: 'sleeper', namespace: 'default', qualifier: '$LATEST', invokeType: 'OTHERS', status: 'RUNNING', statusCode: 0, startUs: nowUs(), endUs: null, retMsg: null, errMsg: null })
    db.close()
    const { local, scf } = await startEmulator({ functions, dataDir })
    try {
      expect((await scf.GetAsyncEventStatus({ InvokeRequestId: 'orphan-1' })).Result).toMatchObject({ Status: 'FAILED', StatusCode: 500 })
      expect(local.emulator.getEventLogs('orphan-1').map((l) => l.line).join('\n')).toMatch(/\[PLATFORM\] The emulator stopped while this event was running/)
    } finally {
      await local.close()
    }
  })

  it('close() ends RUNNING events FAILED/500 and stops their instances', async () => {
    const first = await startEmulator({ functions, dataDir })
    const id = (await first.scf.Invoke({ FunctionName: 'sleeper', InvocationType: 'Event', ClientContext: '{"ms":60000}' })).Result.FunctionRequestId
    await new Promise((resolve) => setTimeout(resolve, 300))
    await first.local.close()
    const second = await startEmulator({ functions, dataDir })
    try {
      expect((await second.scf.GetAsyncEventStatus({ InvokeRequestId: id })).Result).toMatchObject({ Status: 'FAILED', StatusCode: 500 })
    } finally {
      await second.local.close()
    }
  })

  it('purges ended events after the retention (3 days by default; shortened here)', async () => {
    const { local, scf } = await startEmulator({ functions, retentionMs: 300, purgeIntervalMs: 50 })
    try {
      const id = (await scf.Invoke({ FunctionName: 'ok', InvocationType: 'Event', ClientContext: '{}' })).Result.FunctionRequestId
      await waitForEnd(scf, id)
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect((await apiError(scf.GetAsyncEventStatus({ InvokeRequestId: id }))).code).toBe('ResourceNotFound.AsyncEvent')
      expect((await scf.ListAsyncEvents({ FunctionName: 'ok' })).TotalCount).toBe(0)
      expect(local.emulator.getEventLogs(id)).toEqual([])
    } finally {
      await local.close()
    }
  })
})
