// Event records and logs in journals under the data dir (no native module): they survive a restart, a torn or
// damaged record is skipped; events RUNNING when the emulator died end FAILED/500; ended events are purged after the
// retention, and stay purged across a restart.
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { LOCK_FILE } from '../../src/emulator/data-dir-lock.js'
import { EVENTS_FILE, EventDb, LOGS_FILE, type EventRow } from '../../src/emulator/event-db.js'
import { nowUs } from '../../src/emulator/event-time.js'
import { apiError, fixture, startEmulator, waitForEnd, waitForLog } from './helpers.js'
import { waitFor } from '../setup/wait.js'

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
    // the handler is running in its instance
    await waitForLog(first.local, id, /^working for 60000 ms$/)
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
      // purged once older than the retention, by the next purge round
      await waitFor(() => scf.GetAsyncEventStatus({ InvokeRequestId: id }).then(() => false, (e: { code?: string }) => e.code === 'ResourceNotFound.AsyncEvent'), { what: `event ${id} to be purged`, timeoutMs: 10_000, intervalMs: 50 })
      expect((await scf.ListAsyncEvents({ FunctionName: 'ok' })).TotalCount).toBe(0)
      expect(local.emulator.getEventLogs(id)).toEqual([])
    } finally {
      await local.close()
    }
  })
})


const T0 = 1_760_000_000_000_000
const row = (i: number, over: Partial<EventRow> = {}): EventRow => ({
  requestId: `ev-${String(i).padStart(3, '0')}`,
  functionName: 'fn',
  namespace: 'default',
  qualifier: '$LATEST',
  invokeType: 'OTHERS',
  status: 'RUNNING',
  statusCode: 0,
  startUs: T0 + i * 1_000_000,
  endUs: null,
  retMsg: null,
  errMsg: null,
  ...over,
})
const page = (db: EventDb, over: Partial<Parameters<EventDb['query']>[0]> = {}) =>
  db.query({ functionName: 'fn', namespace: 'default', orderBy: 'StartTime', order: 'ASC', offset: 0, limit: 100, ...over })
const tick = () => new Promise((r) => setImmediate(r))

describe('event store journal (no native module)', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scfg-journal-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('keeps events, ends, logs and large results across a reopen', async () => {
    const db = await EventDb.open(dir)
    db.insert(row(1))
    db.insert(row(2))
    const big = JSON.stringify({ data: 'x'.repeat(100_000) })
    db.finish('ev-001', 'FINISHED', 200, T0 + 5_000_000, big, null)
    db.appendLog('ev-001', 1, 'stdout', 'hello')
    db.appendLog('ev-001', 2, 'stderr', 'world')
    await tick()
    db.appendLog('ev-001', 3, 'platform', 'END')
    db.close()

    const again = await EventDb.open(dir)
    try {
      expect(again.get('ev-001')).toMatchObject({ status: 'FINISHED', statusCode: 200, endUs: T0 + 5_000_000, retMsg: big })
      expect(again.logs('ev-001')).toEqual([
        { time: 1, stream: 'stdout', line: 'hello' },
        { time: 2, stream: 'stderr', line: 'world' },
        { time: 3, stream: 'platform', line: 'END' },
      ])
      expect(again.logCount('ev-001')).toBe(3)
      expect(again.running().map((r) => r.requestId)).toEqual(['ev-002'])
    } finally {
      again.close()
    }
  })

  it('skips a torn last line (the emulator was killed mid-write) and appends cleanly after it', async () => {
    const db = await EventDb.open(dir)
    db.insert(row(1))
    db.appendLog('ev-001', 1, 'stdout', 'kept')
    db.close()
    // what a kill in the middle of a write leaves: a record without the rest of its line
    appendFileSync(join(dir, EVENTS_FILE), '{"k":"put","e":{"requestId":"ev-torn","functionName":"fn","name')
    appendFileSync(join(dir, LOGS_FILE), '{"r":"ev-001","l":[[2,"stdout","lo')

    const second = await EventDb.open(dir)
    expect(second.get('ev-torn')).toBeUndefined()
    expect(second.get('ev-001')).toMatchObject({ status: 'RUNNING' })
    expect(second.logs('ev-001').map((l) => l.line)).toEqual(['kept'])
    second.insert(row(2))
    second.appendLog('ev-001', 3, 'stdout', 'after')
    second.close()

    const third = await EventDb.open(dir)
    try {
      expect(page(third).rows.map((r) => r.requestId)).toEqual(['ev-001', 'ev-002'])
      expect(third.logs('ev-001').map((l) => l.line)).toEqual(['kept', 'after'])
    } finally {
      third.close()
    }
  })

  it('skips a damaged line in the middle and keeps the rest', async () => {
    const db = await EventDb.open(dir)
    db.insert(row(1))
    db.close()
    appendFileSync(join(dir, EVENTS_FILE), 'not json at all\n')
    const db2 = await EventDb.open(dir)
    db2.insert(row(2))
    db2.close()
    const db3 = await EventDb.open(dir)
    try {
      expect(page(db3).total).toBe(2)
    } finally {
      db3.close()
    }
  })

  it('keeps purged events gone after a restart, and compacts the journal at open', async () => {
    const db = await EventDb.open(dir)
    db.insertMany(Array.from({ length: 200 }, (_, i) => row(i, { status: 'FINISHED', statusCode: 200, endUs: T0 + i * 1_000_000 + 10 })))
    for (let i = 0; i < 200; i++) db.appendLog(`ev-${String(i).padStart(3, '0')}`, i, 'stdout', `line ${i} ${'y'.repeat(200)}`)
    await tick()
    expect(db.purgeEndedBefore(T0 + 150 * 1_000_000)).toBe(150)
    expect(page(db).total).toBe(50)
    const grown = statSync(join(dir, EVENTS_FILE)).size
    db.close()

    const again = await EventDb.open(dir)
    try {
      expect(page(again).total).toBe(50)
      expect(again.get('ev-010')).toBeUndefined()
      expect(again.logs('ev-010')).toEqual([])
      expect(again.logs('ev-160').map((l) => l.line)).toEqual([`line 160 ${'y'.repeat(200)}`])
      // the rewritten journal holds only the 50 live events
      expect(statSync(join(dir, EVENTS_FILE)).size).toBeLessThan(grown / 3)
      // and the log journal only their lines (the purged ones were most of it)
      expect(readFileSync(join(dir, LOGS_FILE), 'utf8').split('\n').filter(Boolean)).toHaveLength(50)
    } finally {
      again.close()
    }
  })

  it('orders and pages as ListAsyncEvents: by end time RUNNING first ascending, ties by request id', async () => {
    const db = await EventDb.open(undefined)
    db.insertMany([row(3, { status: 'FINISHED', statusCode: 200, endUs: T0 + 9 }), row(1), row(2, { status: 'FAILED', statusCode: 430, endUs: T0 + 9 }), row(4, { status: 'FINISHED', statusCode: 200, endUs: T0 + 1 })])
    expect(page(db, { orderBy: 'EndTime' }).rows.map((r) => r.requestId)).toEqual(['ev-001', 'ev-004', 'ev-002', 'ev-003'])
    expect(page(db, { orderBy: 'EndTime', order: 'DESC' }).rows.map((r) => r.requestId)).toEqual(['ev-003', 'ev-002', 'ev-004', 'ev-001'])
    expect(page(db, { statuses: ['FINISHED'], order: 'DESC', limit: 1 })).toMatchObject({ total: 2, rows: [{ requestId: 'ev-004' }] })
    expect(page(db, { startFromUs: T0 + 2_000_000, startToUs: T0 + 4_000_000 }).rows.map((r) => r.requestId)).toEqual(['ev-002', 'ev-003'])
    expect(page(db, { endFromUs: T0 + 5, endToUs: T0 + 10, orderBy: 'EndTime', offset: 1 })).toMatchObject({ total: 2, rows: [{ requestId: 'ev-003' }] })
    db.close()
  })
})

describe('one emulator per data dir', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scfg-lock-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('refuses a second store on a locked data dir, in this process too, until the first closes', async () => {
    const first = await EventDb.open(dir)
    await expect(EventDb.open(dir)).rejects.toMatchObject({ code: 'SCFG_ERR_EMULATOR_DATA_DIR_LOCKED', message: expect.stringContaining('in use by another emulator') })
    first.close()
    const second = await EventDb.open(dir)
    second.close()
  })

  it('takes over the lock of a process that is gone', async () => {
    // a pid that is not running: the highest pid the kernel hands out is below 2^22
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 4_194_303 + 1000, host: hostname() }))
    const db = await EventDb.open(dir)
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid)
    db.close()
  })
})
