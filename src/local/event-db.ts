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
CREATE INDEX IF NOT EXISTS events_fn_start ON events (namespace, function_name, start_us);
CREATE INDEX IF NOT EXISTS events_fn_end ON events (namespace, function_name, end_us);
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
    return new EventDb(db)
  }

  insert(row: EventRow): void {
    this.#insert.run(row.requestId, row.functionName, row.namespace, row.qualifier, row.invokeType, row.status, row.statusCode, row.startUs, row.endUs, row.retMsg, row.errMsg)
  }

  /** Inserts many rows in one transaction (benchmarks, imports). */
  insertMany(rows: readonly EventRow[]): void {
    const tx = this.#db.transaction((all: readonly EventRow[]) => {
      for (const row of all) this.insert(row)
    })
    tx(rows)
  }

  finish(requestId: string, status: AsyncEventStatus, statusCode: number, endUs: number, retMsg: string | null, errMsg: string | null): void {
    this.#update.run(status, statusCode, endUs, retMsg, errMsg, requestId)
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
    const where: string[] = ['namespace = ?', 'function_name = ?']
    const params: unknown[] = [q.namespace, q.functionName]
    if (q.qualifier !== undefined) {
      where.push('qualifier = ?')
      params.push(q.qualifier)
    }
    if (q.invokeTypes?.length) {
      where.push(`invoke_type IN (${q.invokeTypes.map(() => '?').join(',')})`)
      params.push(...q.invokeTypes)
    }
    if (q.statuses?.length) {
      where.push(`status IN (${q.statuses.map(() => '?').join(',')})`)
      params.push(...q.statuses)
    }
    if (q.startFromUs !== undefined) {
      where.push('start_us >= ?')
      params.push(q.startFromUs)
    }
    if (q.startToUs !== undefined) {
      where.push('start_us < ?')
      params.push(q.startToUs)
    }
    if (q.endFromUs !== undefined) {
      where.push('end_us >= ?')
      params.push(q.endFromUs)
    }
    if (q.endToUs !== undefined) {
      where.push('end_us < ?')
      params.push(q.endToUs)
    }
    if (q.invokeRequestId !== undefined) {
      where.push('request_id = ?')
      params.push(q.invokeRequestId)
    }
    const clause = where.join(' AND ')
    const total = (this.#db.prepare(`SELECT COUNT(*) AS n FROM events WHERE ${clause}`).get(...params) as { n: number }).n
    const column = q.orderBy === 'EndTime' ? 'end_us' : 'start_us'
    // request_id breaks ties so paging is stable when two events share a timestamp
    const rows = this.#db
      .prepare(`SELECT * FROM events WHERE ${clause} ORDER BY ${column} ${q.order}, request_id ${q.order} LIMIT ? OFFSET ?`)
      .all(...params, q.limit, q.offset) as RawEvent[]
    return { total, rows: rows.map(fromRaw) }
  }

  /** Deletes events that ended before `cutoffUs`, and their logs. Returns how many events went. */
  purgeEndedBefore(cutoffUs: number): number {
    const tx = this.#db.transaction((cutoff: number) => {
      this.#db.prepare('DELETE FROM logs WHERE request_id IN (SELECT request_id FROM events WHERE end_us IS NOT NULL AND end_us < ?)').run(cutoff)
      return this.#db.prepare('DELETE FROM events WHERE end_us IS NOT NULL AND end_us < ?').run(cutoff).changes
    })
    return tx(cutoffUs) as number
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
