/**
 * Async event records and their logs in SQLite (better-sqlite3, an optional peer loaded lazily). One file under the
 * data dir, so events survive a restart of the emulator; `:memory:` when no data dir is given.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { importPeer } from '../errors.js'
import type { AsyncEventStatus } from '../scf/status.js'

/** One async event as the emulator keeps it. Times are microseconds since epoch (the API prints `.ffffff`). */
export interface EventRow {
  requestId: string
  functionName: string
  namespace: string
  qualifier: string
  invokeType: string
  status: AsyncEventStatus
  statusCode: number
  startUs: number
  endUs: number | null
  retMsg: string | null
  errMsg: string | null
}

export interface LogRow {
  time: number
  stream: string
  line: string
}

export interface EventQuery {
  functionName: string
  namespace: string
  qualifier?: string
  invokeTypes?: string[]
  statuses?: string[]
  startFromUs?: number
  startToUs?: number
  endFromUs?: number
  endToUs?: number
  invokeRequestId?: string
  orderBy: 'StartTime' | 'EndTime'
  order: 'ASC' | 'DESC'
  offset: number
  limit: number
}

// Minimal structural types of better-sqlite3, so the peer's types are not needed at build time.
interface Statement {
  run(...params: unknown[]): { changes: number }
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
}
interface Database {
  prepare(sql: string): Statement
  exec(sql: string): void
  pragma(sql: string): unknown
  transaction<T extends (...args: never[]) => unknown>(fn: T): T
  close(): void
}
type DatabaseCtor = new (file: string) => Database

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  request_id TEXT PRIMARY KEY,
  function_name TEXT NOT NULL,
  namespace TEXT NOT NULL,
  qualifier TEXT NOT NULL,
  invoke_type TEXT NOT NULL,
  status TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  start_us INTEGER NOT NULL,
  end_us INTEGER,
  ret_msg TEXT,
  err_msg TEXT
);
-- covering indexes: a ListAsyncEvents page is picked from the index alone, in order, filters included
CREATE INDEX IF NOT EXISTS events_by_start ON events (namespace, function_name, start_us, request_id, status, end_us, qualifier, invoke_type);
CREATE INDEX IF NOT EXISTS events_by_end ON events (namespace, function_name, end_us, request_id, status, start_us, qualifier, invoke_type);
CREATE INDEX IF NOT EXISTS events_status ON events (status);
CREATE INDEX IF NOT EXISTS events_end ON events (end_us);
CREATE TABLE IF NOT EXISTS logs (
  id INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  time INTEGER NOT NULL,
  stream TEXT NOT NULL,
  line TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_request ON logs (request_id, id);
`

/** The event store. Every method is synchronous (better-sqlite3); each call is one short statement. */
export class EventDb {
  readonly #db: Database
  readonly #insert: Statement
  readonly #update: Statement
  readonly #get: Statement
  readonly #insertLog: Statement
  readonly #logs: Statement
  readonly #countLogs: Statement
  /** Event counts per (namespace, function, qualifier, invoke type, status): TotalCount without scanning. */
  readonly #counts = new Map<string, number>()
  /** ListAsyncEvents builds a handful of distinct SQL strings; preparing each once saves most of a query's cost. */
  readonly #statements = new Map<string, Statement>()

  private constructor(db: Database) {
    this.#db = db
    this.#insert = db.prepare(
      'INSERT INTO events (request_id, function_name, namespace, qualifier, invoke_type, status, status_code, start_us, end_us, ret_msg, err_msg) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    this.#update = db.prepare('UPDATE events SET status = ?, status_code = ?, end_us = ?, ret_msg = ?, err_msg = ? WHERE request_id = ?')
    this.#get = db.prepare('SELECT * FROM events WHERE request_id = ?')
    this.#insertLog = db.prepare('INSERT INTO logs (request_id, time, stream, line) VALUES (?, ?, ?, ?)')
    this.#logs = db.prepare('SELECT time, stream, line FROM logs WHERE request_id = ? ORDER BY id')
    this.#countLogs = db.prepare('SELECT COUNT(*) AS n FROM logs WHERE request_id = ?')
    this.#recount()
  }

  #prepared(sql: string): Statement {
    let st = this.#statements.get(sql)
    if (!st) {
      if (this.#statements.size > 500) this.#statements.clear()
      this.#statements.set(sql, (st = this.#db.prepare(sql)))
    }
    return st
  }

  #recount(): void {
    this.#counts.clear()
    const rows = this.#db.prepare('SELECT namespace, function_name, qualifier, invoke_type, status, COUNT(*) AS n FROM events GROUP BY 1, 2, 3, 4, 5').all() as Array<{ namespace: string; function_name: string; qualifier: string; invoke_type: string; status: string; n: number }>
    for (const r of rows) this.#counts.set(countKey(r.namespace, r.function_name, r.qualifier, r.invoke_type, r.status), r.n)
  }

  #bump(row: { namespace: string; functionName: string; qualifier: string; invokeType: string; status: string }, by: number): void {
    const key = countKey(row.namespace, row.functionName, row.qualifier, row.invokeType, row.status)
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + by)
  }

  /** Opens (creating if needed) `events.sqlite` under `dataDir`, or an in-memory database. */
  static async open(dataDir: string | undefined): Promise<EventDb> {
    const mod = await importPeer<{ default: DatabaseCtor }>('better-sqlite3', 'The local emulator (event records in SQLite)')
    let file = ':memory:'
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true })
      file = join(dataDir, 'events.sqlite')
    }
    const db = new mod.default(file)
    db.pragma('journal_mode = WAL')
    // NORMAL under WAL: a power cut may lose the last transactions, never corrupt the file; fine for a local tool
    db.pragma('synchronous = NORMAL')
    db.exec(SCHEMA)
    // earlier layouts of this file
    db.exec('DROP INDEX IF EXISTS events_fn_start; DROP INDEX IF EXISTS events_fn_end;')
    return new EventDb(db)
  }

  insert(row: EventRow): void {
    this.#insert.run(row.requestId, row.functionName, row.namespace, row.qualifier, row.invokeType, row.status, row.statusCode, row.startUs, row.endUs, row.retMsg, row.errMsg)
    this.#bump(row, 1)
  }

  /** Inserts many rows in one transaction (benchmarks, imports). */
  insertMany(rows: readonly EventRow[]): void {
    const tx = this.#db.transaction((all: readonly EventRow[]) => {
      for (const row of all) this.insert(row)
    })
    tx(rows)
  }

  finish(requestId: string, status: AsyncEventStatus, statusCode: number, endUs: number, retMsg: string | null, errMsg: string | null): void {
    const before = this.get(requestId)
    this.#update.run(status, statusCode, endUs, retMsg, errMsg, requestId)
    if (before) {
      this.#bump(before, -1)
      this.#bump({ ...before, status }, 1)
    }
  }

  get(requestId: string): EventRow | undefined {
    const raw = this.#get.get(requestId) as RawEvent | undefined
    return raw && fromRaw(raw)
  }

  /** Request ids of events still RUNNING (after a crash these are orphans). */
  running(): EventRow[] {
    return (this.#db.prepare("SELECT * FROM events WHERE status = 'RUNNING'").all() as RawEvent[]).map(fromRaw)
  }

  appendLog(requestId: string, time: number, stream: string, line: string): void {
    this.#insertLog.run(requestId, time, stream, line)
  }

  logCount(requestId: string): number {
    return (this.#countLogs.get(requestId) as { n: number }).n
  }

  logs(requestId: string): LogRow[] {
    return this.#logs.all(requestId) as LogRow[]
  }

  /** Filters, orders and pages exactly as ListAsyncEvents does. */
  query(q: EventQuery): { total: number; rows: EventRow[] } {
    if (q.invokeRequestId !== undefined) {
      // one event at most: a primary-key lookup, the other filters checked on it
      const row = this.get(q.invokeRequestId)
      const hit = row !== undefined && matches(row, q)
      return { total: hit ? 1 : 0, rows: hit && q.offset === 0 ? [row] : [] }
    }
    const where: string[] = ['namespace = ?', 'function_name = ?']
    const params: unknown[] = [q.namespace, q.functionName]
    const add = (clause: string, ...values: unknown[]) => {
      where.push(clause)
      params.push(...values)
    }
    if (q.qualifier !== undefined) add('qualifier = ?', q.qualifier)
    if (q.invokeTypes?.length) add(`invoke_type IN (${q.invokeTypes.map(() => '?').join(',')})`, ...q.invokeTypes)
    if (q.statuses?.length) add(`status IN (${q.statuses.map(() => '?').join(',')})`, ...q.statuses)
    if (q.startFromUs !== undefined) add('start_us >= ?', q.startFromUs)
    if (q.startToUs !== undefined) add('start_us < ?', q.startToUs)
    if (q.endFromUs !== undefined) add('end_us >= ?', q.endFromUs)
    if (q.endToUs !== undefined) add('end_us < ?', q.endToUs)
    const clause = where.join(' AND ')
    const hasInterval = q.startFromUs !== undefined || q.endFromUs !== undefined
    // without a time interval the counters answer TotalCount; with one, the interval bounds the index range counted
    const countIndex = q.endFromUs !== undefined && q.startFromUs === undefined ? 'events_by_end' : 'events_by_start'
    const total = hasInterval
      ? (this.#prepared(`SELECT COUNT(*) AS n FROM events INDEXED BY ${countIndex} WHERE ${clause}`).get(...params) as { n: number }).n
      : this.#countFromCounters(q)
    const byEnd = q.orderBy === 'EndTime'
    const column = byEnd ? 'end_us' : 'start_us'
    // request_id breaks ties so paging is stable when two events share a timestamp; the page comes from the index alone
    const ids = this
      .#prepared(`SELECT request_id FROM events INDEXED BY ${byEnd ? 'events_by_end' : 'events_by_start'} WHERE ${clause} ORDER BY ${column} ${q.order}, request_id ${q.order} LIMIT ? OFFSET ?`)
      .all(...params, q.limit, q.offset) as Array<{ request_id: string }>
    if (!ids.length) return { total, rows: [] }
    // one statement for the whole page, then back into the index's order
    const byId = new Map<string, EventRow>()
    const raw = this.#prepared(`SELECT * FROM events WHERE request_id IN (${ids.map(() => '?').join(',')})`).all(...ids.map((r) => r.request_id)) as RawEvent[]
    for (const r of raw) byId.set(r.request_id, fromRaw(r))
    const rows: EventRow[] = []
    for (const { request_id } of ids) {
      const row = byId.get(request_id)
      if (row) rows.push(row)
    }
    return { total, rows }
  }

  #countFromCounters(q: EventQuery): number {
    let total = 0
    const prefix = countKey(q.namespace, q.functionName, '', '', '').slice(0, -2)
    for (const [key, n] of this.#counts) {
      if (!key.startsWith(prefix)) continue
      const [, , qualifier, invokeType, status] = key.split('\u0000')
      if (q.qualifier !== undefined && qualifier !== q.qualifier) continue
      if (q.invokeTypes?.length && !q.invokeTypes.includes(invokeType as string)) continue
      if (q.statuses?.length && !q.statuses.includes(status as string)) continue
      total += n
    }
    return total
  }

  /** Deletes events that ended before `cutoffUs`, and their logs. Returns how many events went. */
  purgeEndedBefore(cutoffUs: number): number {
    const tx = this.#db.transaction((cutoff: number) => {
      this.#db.prepare('DELETE FROM logs WHERE request_id IN (SELECT request_id FROM events WHERE end_us IS NOT NULL AND end_us < ?)').run(cutoff)
      return this.#db.prepare('DELETE FROM events WHERE end_us IS NOT NULL AND end_us < ?').run(cutoff).changes
    })
    const n = tx(cutoffUs) as number
    if (n) this.#recount()
    return n
  }

  close(): void {
    this.#db.close()
  }
}

interface RawEvent {
  request_id: string
  function_name: string
  namespace: string
  qualifier: string
  invoke_type: string
  status: AsyncEventStatus
  status_code: number
  start_us: number
  end_us: number | null
  ret_msg: string | null
  err_msg: string | null
}

function countKey(namespace: string, fn: string, qualifier: string, invokeType: string, status: string): string {
  return [namespace, fn, qualifier, invokeType, status].join('\u0000')
}

function matches(row: EventRow, q: EventQuery): boolean {
  if (row.namespace !== q.namespace || row.functionName !== q.functionName) return false
  if (q.qualifier !== undefined && row.qualifier !== q.qualifier) return false
  if (q.invokeTypes?.length && !q.invokeTypes.includes(row.invokeType)) return false
  if (q.statuses?.length && !q.statuses.includes(row.status)) return false
  if (q.startFromUs !== undefined && row.startUs < q.startFromUs) return false
  if (q.startToUs !== undefined && row.startUs >= q.startToUs) return false
  if (q.endFromUs !== undefined && (row.endUs === null || row.endUs < q.endFromUs)) return false
  if (q.endToUs !== undefined && (row.endUs === null || row.endUs >= q.endToUs)) return false
  return true
}

function fromRaw(r: RawEvent): EventRow {
  return {
    requestId: r.request_id,
    functionName: r.function_name,
    namespace: r.namespace,
    qualifier: r.qualifier,
    invokeType: r.invoke_type,
    status: r.status,
    statusCode: r.status_code,
    startUs: r.start_us,
    endUs: r.end_us,
    retMsg: r.ret_msg,
    errMsg: r.err_msg,
  }
}
