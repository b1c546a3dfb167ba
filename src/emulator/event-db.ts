/**
 * Async event records and their logs, with no native module and no dependency: two append-only JSON-lines journals
 * under the data dir (`events.jsonl`, `logs.jsonl`, see ./journal.ts) and an in-memory index, so events survive a
 * restart of the emulator; everything in memory when no data dir is given.
 *
 * Memory: event records are held in memory (bounded by the retention, which purges ended events); their log lines
 * and large results stay on disk, indexed by position. The events journal is rewritten (compacted) at every open;
 * the log journal when most of it belongs to purged events. A torn last record (the emulator was killed mid-write) is
 * skipped, never a crash. The data dir is locked to one emulator (./data-dir-lock.ts).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { ScfGracefulError } from '../errors.js'
import type { AsyncEventStatus } from '../scf/status.js'
import { lockDataDir, type DataDirLock } from './data-dir-lock.js'
import { Journal, type RecordPos } from './journal.js'

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
  /** The instance (child process) that ran it, once it had one (the console's timeline draws one lane each). */
  instanceId?: string | null
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

export const EVENTS_FILE = 'events.jsonl'
export const LOGS_FILE = 'logs.jsonl'
const FORMAT = 1
/** A result or error message longer than this stays on disk; the index keeps where. */
const INLINE_MESSAGE_CHARS = 2048
/** The log journal is compacted when purged events' lines are over this many bytes and over half of it. */
const COMPACT_LOGS_BYTES = 32 * 1024 * 1024

/** A message kept in memory, or where its record lies in the events journal. */
type Message = string | null | { at: RecordPos; field: 'retMsg' | 'errMsg' }

/** An event row as the index holds it: a long message stays on disk (see Message). */
type Ev = Omit<EventRow, 'retMsg' | 'errMsg' | 'instanceId'> & { retMsg: Message; errMsg: Message; instanceId: string | null }

/** One function's events, ordered for ListAsyncEvents without sorting per query. */
interface FnIndex {
  /** by (startUs, requestId) */
  byStart: Ev[]
  /** ended events by (endUs, requestId) */
  byEnd: Ev[]
  running: Set<Ev>
}

// journal records (short keys: the files hold many of them)
type PutRecord = { k: 'put'; e: EventRow }
type EndRecord = { k: 'end'; id: string; s: AsyncEventStatus; c: number; t: number; rm: string | null; em: string | null }
type PurgeRecord = { k: 'purge'; before: number }
type InstanceRecord = { k: 'inst'; id: string; i: string }
type LogRecord = { r: string; l: Array<[number, string, string]> }

/** Where an event's log lines are: in memory, or in the log journal (one record per batch of lines). */
interface LogIndex {
  count: number
  mem?: LogRow[]
  recs?: RecordPos[]
  bytes: number
}

/** The event store. Every method is synchronous; a write is one append to a journal. */
export class EventDb {
  readonly #events = new Map<string, Ev>()
  readonly #fns = new Map<string, FnIndex>()
  /** Event counts per (namespace, function, qualifier, invoke type, status): TotalCount without scanning. */
  readonly #counts = new Map<string, number>()
  readonly #logs = new Map<string, LogIndex>()
  /** lines appended but not yet written: one journal write per loop turn, grouped by event */
  #pending = new Map<string, LogRow[]>()
  #flushScheduled = false
  #eventsJournal: Journal | undefined
  #logsJournal: Journal | undefined
  #deadLogBytes = 0
  readonly #lock: DataDirLock | undefined
  readonly #dataDir: string | undefined
  #closed = false

  private constructor(dataDir: string | undefined, lock: DataDirLock | undefined) {
    this.#dataDir = dataDir
    this.#lock = lock
  }

  /**
   * Opens (creating if needed) the journals under `dataDir`, or an in-memory store. Throws
   * SCFG_ERR_EMULATOR_DATA_DIR_LOCKED if another live emulator holds the data dir.
   */
  static async open(dataDir: string | undefined): Promise<EventDb> {
    if (!dataDir) return new EventDb(undefined, undefined)
    mkdirSync(dataDir, { recursive: true })
    const lock = lockDataDir(dataDir)
    const db = new EventDb(dataDir, lock)
    try {
      db.#load()
    } catch (err) {
      db.#closeFiles()
      lock.release()
      throw err
    }
    return db
  }

  #load(): void {
    const dir = this.#dataDir as string
    const eventsPath = join(dir, EVENTS_FILE)
    // replay, then rewrite only what is live: the file never grows past one record per event and end at restart
    const replay = Journal.open(eventsPath, (rec, at) => this.#replay(rec as PutRecord | EndRecord | PurgeRecord | InstanceRecord, at))
    this.#reindex()
    try {
      // the old file stays open while the new one is written: big messages are read from it (the rename leaves
      // the open descriptor on the old file)
      this.#eventsJournal = Journal.rewrite(eventsPath, (append) => {
        append({ k: 'format', v: FORMAT })
        for (const ev of this.#events.values()) {
          const at = append({ k: 'put', e: this.#row(ev, replay.journal) } satisfies PutRecord)
          // big messages now live in the rewritten record
          if (typeof ev.retMsg === 'object' && ev.retMsg !== null) ev.retMsg = { at, field: 'retMsg' }
          if (typeof ev.errMsg === 'object' && ev.errMsg !== null) ev.errMsg = { at, field: 'errMsg' }
        }
      })
    } finally {
      replay.journal.close()
    }

    const logsPath = join(dir, LOGS_FILE)
    let live = 0
    let dead = 0
    const { journal, scan } = Journal.open(logsPath, (rec, at) => {
      const r = rec as LogRecord
      if (typeof r?.r !== 'string' || !Array.isArray(r.l) || !this.#events.has(r.r)) {
        dead += at.len + 1
        return
      }
      const idx = this.#logIndex(r.r)
      ;(idx.recs ??= []).push(at)
      idx.count += r.l.length
      idx.bytes += at.len + 1
      live += at.len + 1
    })
    this.#logsJournal = journal
    this.#deadLogBytes = dead
    if (scan.skipped || dead > COMPACT_LOGS_BYTES || (dead > 0 && dead >= live)) this.#compactLogs()
  }

  /** Applies one journal record to the events map only; the indexes are built once, after the replay. */
  #replay(rec: PutRecord | EndRecord | PurgeRecord | InstanceRecord, at?: RecordPos): void {
    if (rec?.k === 'put' && rec.e && typeof rec.e.requestId === 'string') {
      if (!this.#events.has(rec.e.requestId)) this.#events.set(rec.e.requestId, toEv(rec.e, at))
    } else if (rec?.k === 'end' && typeof rec.id === 'string') {
      const ev = this.#events.get(rec.id)
      if (ev) {
        ev.status = rec.s
        ev.statusCode = rec.c
        ev.endUs = rec.t
        ev.retMsg = message(rec.rm, at, 'retMsg')
        ev.errMsg = message(rec.em, at, 'errMsg')
      }
    } else if (rec?.k === 'inst' && typeof rec.id === 'string') {
      const ev = this.#events.get(rec.id)
      if (ev && typeof rec.i === 'string') ev.instanceId = rec.i
    } else if (rec?.k === 'purge' && typeof rec.before === 'number') {
      for (const [id, ev] of this.#events) if (ev.endUs !== null && ev.endUs < rec.before) this.#events.delete(id)
    }
  }

  /** Builds the per-function orders and the counters from the events map (after a replay): one sort per order. */
  #reindex(): void {
    this.#fns.clear()
    this.#counts.clear()
    const events = [...this.#events.values()]
    this.#events.clear()
    for (const ev of events) this.#add(ev, true)
    for (const fn of this.#fns.values()) sortIndex(fn)
  }

  insert(row: EventRow): void {
    this.insertMany([row])
  }

  /** Inserts many rows with one journal write (benchmarks, imports). */
  insertMany(rows: readonly EventRow[]): void {
    this.#open()
    for (const row of rows) if (this.#events.has(row.requestId)) throw new ScfGracefulError('SCFG_ERR_INVALID_OPTION', `event ${row.requestId} exists already`)
    const positions = this.#eventsJournal?.append(rows.map((e) => ({ k: 'put', e }) satisfies PutRecord))
    const many = rows.length > 64
    for (const [i, row] of rows.entries()) this.#add(toEv(row, positions?.[i]), many)
    // a bulk insert appends unsorted and sorts once
    if (many) for (const fn of this.#fns.values()) sortIndex(fn)
  }

  finish(requestId: string, status: AsyncEventStatus, statusCode: number, endUs: number, retMsg: string | null, errMsg: string | null): void {
    this.#open()
    const ev = this.#events.get(requestId)
    if (!ev) return
    const [at] = this.#eventsJournal?.append([{ k: 'end', id: requestId, s: status, c: statusCode, t: endUs, rm: retMsg, em: errMsg } satisfies EndRecord]) ?? []
    this.#end(ev, status, statusCode, endUs, retMsg, errMsg, at)
  }

  /** Records which instance runs the event. */
  setInstance(requestId: string, instanceId: string): void {
    this.#open()
    const ev = this.#events.get(requestId)
    if (!ev) return
    this.#eventsJournal?.append([{ k: 'inst', id: requestId, i: instanceId } satisfies InstanceRecord])
    ev.instanceId = instanceId
  }

  get(requestId: string): EventRow | undefined {
    if (this.#closed) return undefined
    const ev = this.#events.get(requestId)
    return ev && this.#row(ev)
  }

  /** Events still RUNNING (after a crash these are orphans). */
  running(): EventRow[] {
    const rows: EventRow[] = []
    for (const fn of this.#fns.values()) for (const ev of fn.running) rows.push(this.#row(ev))
    return rows
  }

  appendLog(requestId: string, time: number, stream: string, line: string): void {
    this.#open()
    const row = { time, stream, line }
    const idx = this.#logIndex(requestId)
    idx.count++
    if (!this.#logsJournal) {
      ;(idx.mem ??= []).push(row)
      return
    }
    let batch = this.#pending.get(requestId)
    if (!batch) this.#pending.set(requestId, (batch = []))
    batch.push(row)
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      // not unref'd on purpose: it is one loop turn, and the lines must reach the file
      setImmediate(() => this.#flushLogs())
    }
  }

  logCount(requestId: string): number {
    return this.#logs.get(requestId)?.count ?? 0
  }

  logs(requestId: string): LogRow[] {
    if (this.#closed) return []
    const idx = this.#logs.get(requestId)
    if (!idx) return []
    if (idx.mem) return idx.mem.slice()
    this.#flushLogs()
    const out: LogRow[] = []
    for (const at of idx.recs ?? []) {
      let rec: LogRecord
      try {
        rec = this.#logsJournal?.read(at) as LogRecord
      } catch {
        continue // a damaged record costs its lines, not the whole log
      }
      for (const [time, stream, line] of rec.l) out.push({ time, stream, line })
    }
    return out
  }

  /** Filters, orders and pages exactly as ListAsyncEvents does. */
  query(q: EventQuery): { total: number; rows: EventRow[] } {
    this.#open()
    if (q.invokeRequestId !== undefined) {
      // one event at most: a lookup, the other filters checked on it
      const ev = this.#events.get(q.invokeRequestId)
      const hit = ev !== undefined && matches(ev, q)
      return { total: hit ? 1 : 0, rows: hit && q.offset === 0 ? [this.#row(ev)] : [] }
    }
    const fn = this.#fns.get(fnKey(q.namespace, q.functionName))
    if (!fn) return { total: 0, rows: [] }
    const asc = q.order === 'ASC'
    // the candidates as ranges of sorted arrays, ascending; a time interval on the ordering column narrows them by
    // binary search (ranges, not copies: a function may hold 100k events)
    let seq: Array<[Ev[], number, number]>
    if (q.orderBy === 'StartTime') {
      const lo = q.startFromUs === undefined ? 0 : lowerBound(fn.byStart, q.startFromUs, startOf)
      const hi = q.startToUs === undefined ? fn.byStart.length : lowerBound(fn.byStart, q.startToUs, startOf)
      seq = [[fn.byStart, lo, hi]]
    } else {
      const lo = q.endFromUs === undefined ? 0 : lowerBound(fn.byEnd, q.endFromUs, endOf)
      const hi = q.endToUs === undefined ? fn.byEnd.length : lowerBound(fn.byEnd, q.endToUs, endOf)
      // RUNNING events have no end: they sort first ascending (as SQL's NULLs), by request id
      const running = q.endFromUs === undefined && q.endToUs === undefined ? [...fn.running].sort(byId) : []
      seq = [[running, 0, running.length], [fn.byEnd, lo, hi]]
    }
    const hasInterval = q.startFromUs !== undefined || q.startToUs !== undefined || q.endFromUs !== undefined || q.endToUs !== undefined
    // without a time interval the counters answer TotalCount, and the scan stops at the end of the page
    const counted = hasInterval ? undefined : this.#countFromCounters(q)
    const page: Ev[] = []
    let seen = 0
    const ordered = asc ? seq : [...seq].reverse()
    outer: for (const [part, lo, hi] of ordered) {
      for (let i = 0; i < hi - lo; i++) {
        const ev = part[asc ? lo + i : hi - 1 - i] as Ev
        if (!matches(ev, q)) continue
        if (seen >= q.offset && page.length < q.limit) page.push(ev)
        seen++
        if (counted !== undefined && page.length >= q.limit) break outer
      }
    }
    return { total: counted ?? seen, rows: page.map((ev) => this.#row(ev)) }
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
    this.#open()
    const n = this.#purge(cutoffUs, true)
    if (n) {
      this.#eventsJournal?.append([{ k: 'purge', before: cutoffUs } satisfies PurgeRecord])
      const logBytes = this.#logsJournal?.size ?? 0
      if (this.#deadLogBytes > COMPACT_LOGS_BYTES && this.#deadLogBytes * 2 > logBytes) this.#compactLogs()
    }
    return n
  }

  close(): void {
    if (this.#closed) return
    try {
      this.#flushLogs()
      this.#closeFiles()
    } finally {
      this.#closed = true
      this.#lock?.release()
    }
  }

  #closeFiles(): void {
    this.#eventsJournal?.close()
    this.#logsJournal?.close()
  }

  #open(): void {
    if (this.#closed) throw new ScfGracefulError('SCFG_ERR_EMULATOR_CLOSING', 'the event store is closed')
  }

  #add(ev: Ev, bulk = false): void {
    this.#events.set(ev.requestId, ev)
    const key = fnKey(ev.namespace, ev.functionName)
    let fn = this.#fns.get(key)
    if (!fn) this.#fns.set(key, (fn = { byStart: [], byEnd: [], running: new Set() }))
    if (bulk) fn.byStart.push(ev)
    else insertSorted(fn.byStart, ev, startOf)
    if (ev.endUs === null) fn.running.add(ev)
    else if (bulk) fn.byEnd.push(ev)
    else insertSorted(fn.byEnd, ev, endOf)
    this.#bump(ev, 1)
  }

  #end(ev: Ev, status: AsyncEventStatus, code: number, endUs: number, retMsg: string | null, errMsg: string | null, at: RecordPos | undefined): void {
    const fn = this.#fns.get(fnKey(ev.namespace, ev.functionName)) as FnIndex
    this.#bump(ev, -1)
    if (ev.endUs === null) fn.running.delete(ev)
    else fn.byEnd.splice(fn.byEnd.indexOf(ev), 1)
    ev.status = status
    ev.statusCode = code
    ev.endUs = endUs
    ev.retMsg = message(retMsg, at, 'retMsg')
    ev.errMsg = message(errMsg, at, 'errMsg')
    insertSorted(fn.byEnd, ev, endOf)
    this.#bump(ev, 1)
  }

  /** Drops ended events with endUs < cutoff: a prefix of each function's end order. */
  #purge(cutoffUs: number, live = false): number {
    let n = 0
    for (const [key, fn] of this.#fns) {
      let k = 0
      while (k < fn.byEnd.length && (fn.byEnd[k] as Ev).endUs! < cutoffUs) k++
      if (!k) continue
      const gone = new Set(fn.byEnd.splice(0, k))
      fn.byStart = fn.byStart.filter((ev) => !gone.has(ev))
      for (const ev of gone) {
        this.#events.delete(ev.requestId)
        this.#bump(ev, -1)
        const idx = this.#logs.get(ev.requestId)
        if (idx) {
          this.#deadLogBytes += idx.bytes
          this.#logs.delete(ev.requestId)
        }
        if (live) this.#pending.delete(ev.requestId)
      }
      n += k
      if (!fn.byStart.length && !fn.running.size) this.#fns.delete(key)
    }
    return n
  }

  #logIndex(requestId: string): LogIndex {
    let idx = this.#logs.get(requestId)
    if (!idx) this.#logs.set(requestId, (idx = { count: 0, bytes: 0 }))
    return idx
  }

  #flushLogs(): void {
    this.#flushScheduled = false
    if (!this.#pending.size || !this.#logsJournal) return
    const batches = [...this.#pending]
    this.#pending = new Map()
    const positions = this.#logsJournal.append(batches.map(([r, rows]) => ({ r, l: rows.map((x) => [x.time, x.stream, x.line]) }) satisfies LogRecord))
    for (const [i, [id]] of batches.entries()) {
      const idx = this.#logs.get(id)
      const at = positions[i] as RecordPos
      if (!idx) {
        this.#deadLogBytes += at.len + 1 // purged while pending
        continue
      }
      ;(idx.recs ??= []).push(at)
      idx.bytes += at.len + 1
    }
  }

  /** Rewrites the log journal with the live events' lines only (one record per event). */
  #compactLogs(): void {
    const old = this.#logsJournal
    if (!old) return
    this.#flushLogs()
    const path = old.path
    const fresh = Journal.rewrite(path, (append) => {
      for (const [id, idx] of this.#logs) {
        if (!idx.recs?.length) continue
        const lines: LogRecord['l'] = []
        for (const at of idx.recs) {
          try {
            lines.push(...(old.read(at) as LogRecord).l)
          } catch {
            // a damaged record: its lines are lost, the rest is kept
          }
        }
        const rec = append({ r: id, l: lines } satisfies LogRecord)
        idx.recs = [rec]
        idx.count = lines.length
        idx.bytes = rec.len + 1
      }
    })
    old.close()
    this.#logsJournal = fresh
    this.#deadLogBytes = 0
  }

  #bump(ev: Ev, by: number): void {
    const key = countKey(ev.namespace, ev.functionName, ev.qualifier, ev.invokeType, ev.status)
    const n = (this.#counts.get(key) ?? 0) + by
    if (n) this.#counts.set(key, n)
    else this.#counts.delete(key)
  }

  #row(ev: Ev, journal = this.#eventsJournal): EventRow {
    const row: EventRow = {
      requestId: ev.requestId,
      functionName: ev.functionName,
      namespace: ev.namespace,
      qualifier: ev.qualifier,
      invokeType: ev.invokeType,
      status: ev.status,
      statusCode: ev.statusCode,
      startUs: ev.startUs,
      endUs: ev.endUs,
      retMsg: resolve(ev.retMsg, journal),
      errMsg: resolve(ev.errMsg, journal),
    }
    if (ev.instanceId !== null) row.instanceId = ev.instanceId
    return row
  }
}

function toEv(row: EventRow, at: RecordPos | undefined): Ev {
  return {
    requestId: row.requestId,
    functionName: row.functionName,
    namespace: row.namespace,
    qualifier: row.qualifier,
    invokeType: row.invokeType,
    status: row.status,
    statusCode: row.statusCode,
    startUs: row.startUs,
    endUs: row.endUs ?? null,
    // a put record holds the row under `e`: the message fields are read from there
    retMsg: message(row.retMsg ?? null, at, 'retMsg'),
    errMsg: message(row.errMsg ?? null, at, 'errMsg'),
    instanceId: row.instanceId ?? null,
  }
}

function message(value: string | null, at: RecordPos | undefined, field: 'retMsg' | 'errMsg'): Message {
  if (value === null || value.length <= INLINE_MESSAGE_CHARS || at === undefined) return value
  return { at, field }
}

function resolve(m: Message, journal: Journal | undefined): string | null {
  if (m === null || typeof m === 'string') return m
  try {
    const rec = journal?.read(m.at) as PutRecord | EndRecord
    if (rec.k === 'put') return rec.e[m.field]
    return m.field === 'retMsg' ? rec.rm : rec.em
  } catch {
    return null
  }
}

const startOf = (ev: Ev) => ev.startUs
const endOf = (ev: Ev) => ev.endUs as number
const byId = (a: Ev, b: Ev) => (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0)

/** First index whose key is >= `key` (ties broken by request id never matter for a bound on the key alone). */
function lowerBound(list: Ev[], key: number, of: (ev: Ev) => number): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (of(list[mid] as Ev) < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Inserts in (key, requestId) order; new events usually go last, so that case costs nothing. */
function insertSorted(list: Ev[], ev: Ev, of: (ev: Ev) => number): void {
  const cmp = (a: Ev, b: Ev) => of(a) - of(b) || byId(a, b)
  const last = list[list.length - 1]
  if (!last || cmp(last, ev) <= 0) {
    list.push(ev)
    return
  }
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (cmp(list[mid] as Ev, ev) <= 0) lo = mid + 1
    else hi = mid
  }
  list.splice(lo, 0, ev)
}

function sortIndex(fn: FnIndex): void {
  fn.byStart.sort((a, b) => a.startUs - b.startUs || byId(a, b))
  fn.byEnd.sort((a, b) => (a.endUs as number) - (b.endUs as number) || byId(a, b))
}

const fnKey = (namespace: string, fn: string) => `${namespace}\u0000${fn}`

function countKey(namespace: string, fn: string, qualifier: string, invokeType: string, status: string): string {
  return [namespace, fn, qualifier, invokeType, status].join('\u0000')
}

function matches(row: Ev, q: EventQuery): boolean {
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
