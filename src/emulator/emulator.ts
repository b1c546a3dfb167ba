/**
 * The local emulator of SCF async execution: functions, their instance pools, and the async event state machine.
 *
 * STABLE SURFACE (the console in src/emulator/console/ and the CLI build on it; keep these):
 *   const emulator = await createEmulator({ functions: [{ name, entry, ... }], dataDir })
 *   emulator.call(action: string, params: object): Promise<object>
 *       Runs an API action in-process ('Invoke' | 'InvokeFunction' | 'ListAsyncEvents' | 'GetAsyncEventStatus' |
 *       'TerminateAsyncEvent'),
 *       with the same validation as the HTTP API but no signature and no rate limit. Resolves with the `Response`
 *       payload without `RequestId`; rejects with an ApiError (code SCFG_ERR_EMULATOR_API) whose `apiCode` and
 *       `message` are exactly `Response.Error`'s `Code` and `Message`.
 *   emulator.getEventLogs(requestId): Array<{ time: number; stream: string; line: string }>
 *       The event's log lines in order (time = ms since epoch). stream is 'stdout' | 'stderr' for the function's own
 *       output and 'platform' for lines the emulator writes (START/END/Report, `[PLATFORM] Signal received successfully.`).
 *   emulator.getEvent(requestId): AsyncEventRecord | undefined
 *   emulator.listFunctions(): Array<{ name; namespace; mode; timeoutMs; qualifier; asyncRunEnable; traceEnable }>
 *   emulator is an EventEmitter:
 *     'event-change' (record: AsyncEventRecord)  on invoke (RUNNING) and when the event ends
 *     'log' ({ requestId, line, stream, time })    every line of an event's log, as it is written
 *     'reload' (info: ReloadInfo)                  with `watch`, after a function's files changed
 *   emulator.close(): Promise<void>   stops every instance; RUNNING events end FAILED/500
 *
 * Semantics (ARCHITECTURE.md "Local emulator semantics"): RUNNING/0, FINISHED/200, FAILED/430 (handler threw),
 * FAILED/433 (timeout, instance recycled), FAILED/439 (process exited), ABORTED/499 (force: SIGKILL, tmp wiped),
 * ABORTED/<outcome> after a graceful terminate (200 handler finished, 439 process exited without a handler, 430 it threw,
 * 433 it ran into its timeout). Choices: FAILED/432 when no instance freed up within `queueTimeoutMs`; FAILED/500 for
 * events that were RUNNING when the emulator stopped (found at restart, or at close()).
 * Async execution (AsyncRunEnable, default on): every invocation runs as an async event and is answered with its
 * RequestId; without status tracing (TraceEnable) such events run but are not recorded. Off: RequestResponse returns
 * the result; an `Event` invoke runs unrecorded. A graceful terminate during a cold start is delivered once the
 * event's process runs it; "[PLATFORM] Signal reception failed." only when no process will ever run the event.
 */
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import { readFileSync, watch as watchFs, type FSWatcher } from 'node:fs'
import { dirname, resolve as resolvePath, sep } from 'node:path'
import { invalidOption } from '../errors.js'
import { safeLogger, type Logger } from '../log.js'
import { scfStatus, type AsyncEventStatus } from '../scf/status.js'
import { API_INVOKE_TYPE, runAction, type ActionCore, type InvokeResult } from './actions.js'
import { ApiError, FUNCTION_NAME_RE, NAMESPACE_RE, QUALIFIER_RE } from './api-params.js'
import { EventDb, type EventRow } from './event-db.js'
import { DEFAULT_UTC_OFFSET_MINUTES, nowUs } from './event-time.js'
import { FunctionPool, type PooledInstance, type StartFn } from './pool.js'
import { MAX_LOG_LINE_BYTES } from '../harness/bounded-lines.js'
import type { FunctionMode, LogLine } from '../harness/types.js'
import { parseRuntime, type RuntimeName } from '../scf/runtimes.js'

export { ApiError }

/** One function the emulator serves. */
export interface LocalFunctionConfig {
  /** SCF function name (2-60 letters, digits, - and _). */
  name: string
  /** Path of the entry module (code/job) or server script (image). */
  entry: string
  /** An export name, or (code mode) SCF's handler string `FILE.EXPORT` relative to the code folder, e.g. `index.main_handler`. @default 'main_handler' */
  handler?: string
  /** @default 'code' */
  mode?: FunctionMode
  /** The Node.js the function runs on: 'Nodejs16.13', 'Nodejs18.15' (exact SCF binaries) or 'host'. @default 'host' */
  runtime?: RuntimeName
  /** @default 3000 (SCF's default) */
  timeoutMs?: number
  /** @default 128 */
  memoryMb?: number
  env?: Record<string, string>
  /** @default 'default' */
  namespace?: string
  /** @default '$LATEST' */
  qualifier?: string
  /** Instances this function may run at once. @default options.concurrency */
  concurrency?: number
  /**
   * SCF's AsyncRunEnable: every invocation (RequestResponse included) is answered with its RequestId only and runs as
   * an async event; any execution error recycles the instance; timeouts up to 24 h. Off: RequestResponse returns the
   * result, timeouts up to 900 s. @default true
   */
  asyncRunEnable?: boolean
  /**
   * SCF's TraceEnable (status tracing): async events are recorded, so the event APIs and the console see them.
   * Needs asyncRunEnable. @default asyncRunEnable
   */
  traceEnable?: boolean
}

/** SCF's timeout limits: 24 h for async-execution functions, 900 s for the others. */
export const MAX_TIMEOUT_MS = { asyncRun: 24 * 60 * 60 * 1000, sync: 900 * 1000 } as const

export interface EmulatorOptions {
  functions: LocalFunctionConfig[]
  /** Where the event journals (`events.jsonl`, `logs.jsonl`) live; events survive restarts. One emulator per data dir (locked). @default in memory */
  dataDir?: string
  /** How long an ended event stays queryable. @default 3 days */
  retentionMs?: number
  /** How often expired events are purged (also checked on each query). @default 60_000 */
  purgeIntervalMs?: number
  /** Default per-function concurrency limit. @default 10 */
  concurrency?: number
  /** An idle warm instance is stopped after this long. @default 600_000 */
  idleTimeoutMs?: number
  /** How long an event waits for a free instance before it fails with 432. @default 60_000 */
  queueTimeoutMs?: number
  /** Time zone of the API's time strings. @default 480 (UTC+8, as the real service) */
  utcOffsetMinutes?: number
  /** Lines kept per event log; later lines are dropped (counted). @default 10_000 */
  maxLogLinesPerEvent?: number
  /** Diagnostics of the emulator itself (not event logs: subscribe to 'log' for those). @default false */
  logger?: Logger | false
  /** Starts one instance. @default startFunction from ../harness/start-function.js */
  startFunction?: StartFn
  /**
   * Watch each function's folder (its entry's directory, recursively; dot-folders and `dataDir` aside): when a file
   * changes, idle instances are replaced and running events finish on the old code ('reload' event). @default false
   */
  watch?: boolean
}

/** What a 'reload' event reports: a function's files changed and its instances were renewed. */
export interface ReloadInfo {
  name: string
  namespace: string
  /** The changed file, relative to the watched folder (the last one, when several changed at once). */
  file: string
  /** Idle instances stopped (the next event starts a new one on the new code). */
  idle: number
  /** Instances running (or starting) an event: they finish it on the old code, then are recycled. */
  busy: number
}

/** An async event as 'event-change' reports it. Times are ms since epoch; `endTime` is null while RUNNING. */
export interface AsyncEventRecord {
  requestId: string
  functionName: string
  namespace: string
  qualifier: string
  invokeType: string
  status: AsyncEventStatus
  statusCode: number
  startTime: number
  endTime: number | null
  /** JSON of the handler's result (FINISHED), else null. */
  retMsg: string | null
  /** The error message (FAILED / ABORTED), else null. */
  errMsg: string | null
  /** The instance (child process) that ran it, once it had one. */
  instanceId: string | null
}

export interface EventLogLine {
  time: number
  stream: string
  line: string
}

export interface FunctionSummary {
  name: string
  namespace: string
  mode: FunctionMode
  timeoutMs: number
  qualifier: string
  asyncRunEnable: boolean
  traceEnable: boolean
}

interface FunctionEntry {
  config: LocalFunctionConfig
  name: string
  namespace: string
  qualifier: string
  mode: FunctionMode
  timeoutMs: number
  asyncRunEnable: boolean
  traceEnable: boolean
  pool: FunctionPool
}

interface Execution {
  requestId: string
  fn: FunctionEntry
  async: boolean
  /** recorded in the event store (an async execution of a function with status tracing) */
  tracked: boolean
  qualifier: string
  pooled?: PooledInstance
  terminating?: 'grace' | 'force'
  /** terminated before it got an instance */
  cancelled?: boolean
  /** a graceful terminate that came while the event's instance was starting: settles once SIGTERM went out (or never will) */
  sigterm?: { promise: Promise<boolean>; settle: (delivered: boolean) => void; done: boolean }
  finished: boolean
  done: Promise<void>
  markDone: () => void
  lines: number
  dropped: number
  /** whether the log already says that long lines were cut */
  cutNoted: boolean
  /** sync invocations keep their log in memory (for LogType Tail) */
  memLog?: string[]
}

const DAY_MS = 24 * 60 * 60 * 1000
const SIGTERM_RECEIVED = '[PLATFORM] Signal received successfully.'
const SIGTERM_FAILED = '[PLATFORM] Signal reception failed.'
/** How often a SIGTERM promised during a cold start is retried until the event's process exists. */
const SIGTERM_POLL_MS = 5
/** How long END and Report wait for a recycled instance to stop, so its last lines come before them. */
const RECYCLE_LOG_WAIT_MS = 1000
/** Changes closer together than this are one reload. */
const WATCH_DEBOUNCE_MS = 100

/** Opens the event store, marks orphaned RUNNING events FAILED/500 and returns a ready emulator. */
export async function createEmulator(options: EmulatorOptions): Promise<Emulator> {
  const start = options.startFunction ?? (await import('../harness/start-function.js')).startFunction
  const db = await EventDb.open(options.dataDir)
  return new Emulator(options, db, start)
}

export class Emulator extends EventEmitter {
  readonly utcOffsetMinutes: number
  readonly #db: EventDb
  readonly #functions = new Map<string, FunctionEntry>()
  readonly #namespaces = new Set<string>(['default'])
  readonly #exec = new Map<string, Execution>()
  /** recently ended async executions, for output that arrives after their end (bounded) */
  readonly #ended = new Map<string, Execution>()
  readonly #log: Logger
  readonly #retentionMs: number
  readonly #purgeIntervalMs: number
  readonly #maxLines: number
  readonly #purgeTimer: NodeJS.Timeout
  #lastPurge = 0
  #closed = false
  readonly #core: ActionCore
  readonly #watchers: FSWatcher[] = []

  /** @internal use createEmulator() */
  constructor(options: EmulatorOptions, db: EventDb, start: StartFn) {
    super()
    this.#db = db
    this.#log = safeLogger(options.logger ?? false)
    this.utcOffsetMinutes = options.utcOffsetMinutes ?? DEFAULT_UTC_OFFSET_MINUTES
    this.#retentionMs = positive(options.retentionMs, 'retentionMs', 3 * DAY_MS)
    this.#purgeIntervalMs = positive(options.purgeIntervalMs, 'purgeIntervalMs', 60_000)
    this.#maxLines = positive(options.maxLogLinesPerEvent, 'maxLogLinesPerEvent', 10_000)
    const concurrency = positive(options.concurrency, 'concurrency', 10)
    const idleTimeoutMs = positive(options.idleTimeoutMs, 'idleTimeoutMs', 600_000)
    const queueTimeoutMs = positive(options.queueTimeoutMs, 'queueTimeoutMs', 60_000)
    if (!Array.isArray(options.functions)) throw invalidOption('functions', options.functions, 'an array of { name, entry }')
    for (const [i, config] of options.functions.entries()) {
      if (typeof config?.name !== 'string' || !FUNCTION_NAME_RE.test(config.name)) throw invalidOption(`functions[${i}].name`, config?.name, 'an SCF function name (2-60 letters, digits, - or _, starting with a letter)')
      if (typeof config.entry !== 'string' || !config.entry) throw invalidOption(`functions[${i}].entry`, config.entry, 'a path to the entry module')
      const namespace = config.namespace ?? 'default'
      if (!NAMESPACE_RE.test(namespace)) throw invalidOption(`functions[${i}].namespace`, namespace, 'a namespace (1-30 letters, digits, - or _)')
      const qualifier = config.qualifier ?? '$LATEST'
      if (!QUALIFIER_RE.test(qualifier)) throw invalidOption(`functions[${i}].qualifier`, qualifier, '$LATEST, a version number or an alias name')
      const mode = config.mode ?? 'code'
      if (!['code', 'image', 'job'].includes(mode)) throw invalidOption(`functions[${i}].mode`, mode, "'code', 'image' or 'job'")
      const asyncRunEnable = flag(config.asyncRunEnable, `functions[${i}].asyncRunEnable`, true)
      const traceEnable = flag(config.traceEnable, `functions[${i}].traceEnable`, asyncRunEnable)
      if (traceEnable && !asyncRunEnable) throw invalidOption(`functions[${i}].traceEnable`, traceEnable, 'false when asyncRunEnable is false (status tracing exists for async-execution functions only)')
      const timeoutMs = positive(config.timeoutMs, `functions[${i}].timeoutMs`, 3000)
      const maxTimeoutMs = asyncRunEnable ? MAX_TIMEOUT_MS.asyncRun : MAX_TIMEOUT_MS.sync
      if (timeoutMs > maxTimeoutMs) throw invalidOption(`functions[${i}].timeoutMs`, timeoutMs, `at most ${maxTimeoutMs} ms (${asyncRunEnable ? '24 h with async execution' : '900 s without async execution'})`)
      const key = `${namespace}/${config.name}`
      if (this.#functions.has(key)) throw invalidOption(`functions[${i}].name`, config.name, 'unique within its namespace')
      const startOptions = {
        entry: resolvePath(config.entry),
        mode,
        timeoutMs,
        functionName: config.name,
        namespace,
        qualifier,
        ...(config.handler === undefined ? {} : { handler: config.handler }),
        ...(config.runtime === undefined ? {} : { runtime: parseRuntime(config.runtime, `functions[${i}].runtime`) }),
        ...(config.memoryMb === undefined ? {} : { memoryMb: config.memoryMb }),
        ...(config.env === undefined ? {} : { env: config.env }),
      }
      const pool = new FunctionPool({
        start,
        startOptions,
        onLog: (requestId, line) => this.#onInstanceLog(requestId, line),
        concurrency: positive(config.concurrency, `functions[${i}].concurrency`, concurrency),
        idleTimeoutMs,
        queueTimeoutMs,
      })
      this.#functions.set(key, { config, name: config.name, namespace, qualifier, mode, timeoutMs, asyncRunEnable, traceEnable, pool })
      this.#namespaces.add(namespace)
    }

    if (options.watch) this.#watch(options.dataDir === undefined ? undefined : resolvePath(options.dataDir))

    // events that were RUNNING when a previous emulator died cannot be resumed: their instances died with it
    for (const row of db.running()) {
      db.appendLog(row.requestId, Date.now(), 'platform', '[PLATFORM] The emulator stopped while this event was running; it ends FAILED (500).')
      db.finish(row.requestId, 'FAILED', scfStatus.INTERNAL_ERROR, nowUs(), null, 'the emulator stopped while the event was running')
    }
    this.purge()
    this.#purgeTimer = setInterval(() => this.purge(), this.#purgeIntervalMs)
    this.#purgeTimer.unref()

    const self = this
    this.#core = {
      utcOffsetMinutes: this.utcOffsetMinutes,
      db,
      functionInfo: (namespace, name) => {
        const f = this.#functions.get(`${namespace}/${name}`)
        return f && { qualifier: f.qualifier, asyncRunEnable: f.asyncRunEnable, traceEnable: f.traceEnable }
      },
      hasNamespace: (namespace) => this.#namespaces.has(namespace),
      purgeIfDue: () => {
        if (Date.now() - self.#lastPurge >= self.#purgeIntervalMs) self.purge()
      },
      invokeAsync: (namespace, name, qualifier, event) => this.#invokeAsync(this.#fn(namespace, name), qualifier, event),
      invokeSync: (namespace, name, qualifier, event, tail) => this.#invokeSync(this.#fn(namespace, name), qualifier, event, tail),
      terminate: (requestId, grace) => this.#terminate(requestId, grace),
    }
  }

  /** Runs an API action in-process (no signature, no rate limit). See the comment at the top of this file. */
  call(action: string, params: object = {}): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(new ApiError('ResourceUnavailable', 'The emulator is closed.'))
    // every rejection carries { code, message } like Response.Error; anything unexpected is logged and becomes InternalError
    return runAction(this.#core, action, params).catch((err: unknown) => {
      if (err instanceof ApiError) throw err
      this.#log.error(`${action} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
      throw new ApiError('InternalError', 'An internal error occurred in the emulator.')
    })
  }

  /** The event's log lines, oldest first. */
  getEventLogs(requestId: string): EventLogLine[] {
    if (this.#closed) return []
    return this.#db.logs(requestId)
  }

  getEvent(requestId: string): AsyncEventRecord | undefined {
    if (this.#closed) return undefined
    const row = this.#db.get(requestId)
    return row && toRecord(row)
  }

  listFunctions(): FunctionSummary[] {
    return [...this.#functions.values()].map((f) => ({ name: f.name, namespace: f.namespace, mode: f.mode, timeoutMs: f.timeoutMs, qualifier: f.qualifier, asyncRunEnable: f.asyncRunEnable, traceEnable: f.traceEnable }))
  }

  /** Instances alive for a function (warm + busy); for tests and the console. */
  instanceCount(name: string, namespace = 'default'): number {
    return this.#functions.get(`${namespace}/${name}`)?.pool.size ?? 0
  }

  /** Deletes events that ended longer than `retentionMs` ago. Returns how many went. */
  purge(): number {
    if (this.#closed) return 0
    this.#lastPurge = Date.now()
    const n = this.#db.purgeEndedBefore(nowUs() - this.#retentionMs * 1000)
    if (n) this.#log.info(`purged ${n} async event(s) older than the retention`)
    return n
  }

  /** The event store (benchmarks seed it directly). @internal */
  get db(): EventDb {
    return this.#db
  }

  async close(): Promise<void> {
    if (this.#closed) return
    clearInterval(this.#purgeTimer)
    for (const w of this.#watchers.splice(0)) w.close()
    for (const ex of this.#exec.values()) {
      if (!ex.tracked) continue
      this.#platformLog(ex, '[PLATFORM] The emulator stopped while this event was running; it ends FAILED (500).')
      this.#finish(ex, 'FAILED', scfStatus.INTERNAL_ERROR, null, 'the emulator stopped while the event was running')
    }
    this.#closed = true
    await Promise.all([...this.#functions.values()].map((f) => f.pool.close()))
    this.#db.close()
  }

  /** Watches each function's folder; a change renews its pool (debounced, so a save of several files is one reload). */
  #watch(dataDir: string | undefined): void {
    for (const fn of this.#functions.values()) {
      const folder = dirname(resolvePath(fn.config.entry))
      let timer: NodeJS.Timeout | undefined
      let last = ''
      const changed = (file: string) => {
        const path = resolvePath(folder, file)
        // dot-folders (.git, the default data dir .scf-local) and the event store are not the function's code
        if (file.split(sep).some((part) => part.startsWith('.'))) return
        if (dataDir !== undefined && (path === dataDir || path.startsWith(dataDir + sep))) return
        last = file
        clearTimeout(timer)
        timer = setTimeout(() => {
          if (this.#closed) return
          const { idle, busy } = fn.pool.renew()
          this.emit('reload', { name: fn.name, namespace: fn.namespace, file: last, idle, busy } satisfies ReloadInfo)
        }, WATCH_DEBOUNCE_MS)
        timer.unref()
      }
      try {
        const watcher = watchFs(folder, { recursive: true }, (_event, file) => file && changed(String(file)))
        watcher.on('error', (err) => this.#log.warn(`watching ${folder} stopped: ${messageOf(err)}`))
        watcher.unref()
        this.#watchers.push(watcher)
      } catch (err) {
        this.#log.warn(`cannot watch ${folder}: ${messageOf(err)}`)
      }
    }
  }

  #fn(namespace: string, name: string): FunctionEntry {
    return this.#functions.get(`${namespace}/${name}`) as FunctionEntry
  }

  #newExecution(fn: FunctionEntry, qualifier: string, isAsync: boolean): Execution {
    let markDone!: () => void
    const done = new Promise<void>((r) => (markDone = r))
    const tracked = isAsync && fn.traceEnable
    const ex: Execution = { requestId: randomUUID(), fn, async: isAsync, tracked, qualifier, finished: false, done, markDone, lines: 0, dropped: 0, cutNoted: false }
    this.#exec.set(ex.requestId, ex)
    return ex
  }

  #invokeAsync(fn: FunctionEntry, qualifier: string, event: unknown): string {
    const ex = this.#newExecution(fn, qualifier, true)
    // without status tracing the event runs but is not recorded: the event APIs do not know it
    if (!ex.tracked) {
      void this.#execute(ex, event)
      return ex.requestId
    }
    const row: EventRow = {
      requestId: ex.requestId,
      functionName: fn.name,
      namespace: fn.namespace,
      qualifier,
      invokeType: API_INVOKE_TYPE,
      status: 'RUNNING',
      statusCode: 0,
      startUs: nowUs(),
      endUs: null,
      retMsg: null,
      errMsg: null,
    }
    this.#db.insert(row)
    this.emit('event-change', toRecord(row))
    void this.#execute(ex, event)
    return ex.requestId
  }

  async #invokeSync(fn: FunctionEntry, qualifier: string, event: unknown, tail: boolean): Promise<InvokeResult> {
    const ex = this.#newExecution(fn, qualifier, false)
    ex.memLog = []
    const t0 = performance.now()
    const outcome = await this.#execute(ex, event)
    const duration = Math.max(1, Math.round(performance.now() - t0))
    const log = ex.memLog.join('\n')
    return {
      FunctionRequestId: ex.requestId,
      RetMsg: outcome.code === scfStatus.OK ? (outcome.retMsg ?? 'null') : '',
      ErrMsg: outcome.code === scfStatus.OK ? '' : JSON.stringify({ errorCode: -1, errorMessage: outcome.errMsg ?? '', statusCode: outcome.code }),
      // LogType Tail: the last 4 KB, as the real service returns
      Log: tail ? Buffer.from(log).subarray(-4096).toString() : '',
      Duration: duration,
      BillDuration: duration,
      MemUsage: outcome.memUsage,
      InvokeResult: outcome.code === scfStatus.OK ? 0 : outcome.code,
    }
  }

  /** Runs one invocation on a pooled instance and settles the execution; never rejects. */
  async #execute(ex: Execution, event: unknown): Promise<{ code: number; retMsg: string | null; errMsg: string | null; memUsage: number }> {
    const { fn } = ex
    let pooled: PooledInstance
    try {
      pooled = await fn.pool.acquire(ex.requestId)
    } catch (err) {
      // no process will ever run this event: a SIGTERM waiting for it is not received
      this.#settleSigterm(ex, false)
      if (ex.cancelled || ex.terminating) return this.#finish(ex, 'ABORTED', scfStatus.REQUEST_CANCELED, null, 'terminated before it started')
      const code = statusOf(err, scfStatus.INTERNAL_ERROR)
      this.#platformLog(ex, `[PLATFORM] The instance could not be started: ${messageOf(err)}`)
      return this.#finish(ex, 'FAILED', code, null, messageOf(err))
    }
    if (ex.cancelled || ex.terminating === 'force' || ex.finished) {
      this.#settleSigterm(ex, false)
      void fn.pool.release(pooled, false)
      return this.#finish(ex, 'ABORTED', scfStatus.REQUEST_CANCELED, null, 'terminated before it started')
    }
    ex.pooled = pooled
    if (ex.async) this.#db.setInstance(ex.requestId, pooled.instance.id)
    this.#platformLog(ex, `START RequestId: ${ex.requestId}`)
    const t0 = performance.now()
    let code: number = scfStatus.OK
    let retMsg: string | null = null
    let errMsg: string | null = null
    let settled = false
    const running = pooled.instance.invoke(event, { requestId: ex.requestId, timeoutMs: fn.timeoutMs })
    // a graceful terminate that came during the cold start: the process runs the event now, so it gets the signal
    if (ex.sigterm) void this.#sendPendingSigterm(ex, pooled, () => settled)
    try {
      const result = await running
      retMsg = JSON.stringify(result ?? null) ?? 'null'
    } catch (err) {
      code = statusOf(err, scfStatus.USER_CODE_EXCEPTION)
      errMsg = messageOf(err)
      this.#errorLog(ex, err, code)
    }
    settled = true
    this.#settleSigterm(ex, false)
    // no wait for trailing output here: the harness settles invoke() only once the lines logged before the result
    // (or before the exit) are in, so END and Report come after them
    const memUsage = rssBytes(pooled.instance.pid)
    // read again: a TerminateAsyncEvent may have arrived while the invocation ran
    const terminating = ex.terminating as Execution['terminating']
    // with async execution any execution error recycles the instance (SCF-FACTS); without it, a handler error (430)
    // keeps the instance warm as SCF does; a graceful abort that returned keeps it warm either way
    const failed = code !== scfStatus.OK && (fn.asyncRunEnable || code !== scfStatus.USER_CODE_EXCEPTION)
    const recycle = failed || terminating === 'force'
    const stopped = fn.pool.release(pooled, recycle)
    if (recycle) {
      // what the process writes while it is recycled belongs to this event, before its END and Report; whatever
      // comes after a short bound belongs to no event (never after Report)
      await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, RECYCLE_LOG_WAIT_MS))])
      pooled.requestId = undefined
    }
    const ms = Math.round(performance.now() - t0)
    this.#platformLog(ex, `END RequestId: ${ex.requestId}`)
    this.#platformLog(ex, `Report RequestId: ${ex.requestId} Duration: ${ms}ms Memory: ${fn.config.memoryMb ?? 128}MB MemUsage: ${(memUsage / 1048576).toFixed(2)}MB StatusCode: ${terminating === 'force' ? scfStatus.REQUEST_CANCELED : code}`)
    if (terminating === 'force') return this.#finish(ex, 'ABORTED', scfStatus.REQUEST_CANCELED, null, 'terminated by force (TerminateAsyncEvent, GraceShutdown=false)', memUsage)
    if (terminating === 'grace') return this.#finish(ex, 'ABORTED', code, retMsg, errMsg, memUsage)
    return this.#finish(ex, code === scfStatus.OK ? 'FINISHED' : 'FAILED', code, retMsg, errMsg, memUsage)
  }

  #finish(ex: Execution, status: AsyncEventStatus, code: number, retMsg: string | null, errMsg: string | null, memUsage = 0) {
    const outcome = { code, retMsg, errMsg, memUsage }
    if (ex.finished) return outcome
    ex.finished = true
    this.#exec.delete(ex.requestId)
    // lines that trail the end (an idle instance still flushing) go to the event they came from
    if (ex.async) {
      this.#ended.set(ex.requestId, ex)
      if (this.#ended.size > 1000) this.#ended.delete(this.#ended.keys().next().value as string)
    }
    ex.markDone()
    if (!ex.tracked || this.#closed) return outcome
    if (ex.dropped) this.#db.appendLog(ex.requestId, Date.now(), 'platform', `[PLATFORM] ${ex.dropped} more log line(s) were dropped (limit ${this.#maxLines} per event).`)
    const endUs = nowUs()
    this.#db.finish(ex.requestId, status, code, endUs, retMsg, errMsg)
    const row = this.#db.get(ex.requestId)
    if (row) this.emit('event-change', toRecord(row))
    return outcome
  }

  async #terminate(requestId: string, grace: boolean): Promise<void> {
    const ex = this.#exec.get(requestId)
    if (!ex) {
      // RUNNING in the store but not running here: nothing left to stop
      this.#db.finish(requestId, 'ABORTED', scfStatus.REQUEST_CANCELED, nowUs(), null, 'terminated')
      const row = this.#db.get(requestId)
      if (row) this.emit('event-change', toRecord(row))
      return
    }
    if (grace) {
      if (ex.sigterm) {
        await ex.sigterm.promise
        return
      }
      if (ex.pooled || ex.terminating === 'force') {
        const delivered = ex.pooled !== undefined && ex.terminating !== 'force' && ex.pooled.instance.signal('SIGTERM')
        this.#platformLog(ex, delivered ? SIGTERM_RECEIVED : SIGTERM_FAILED)
        ex.terminating ??= 'grace'
        return
      }
      ex.terminating = 'grace'
      if (ex.fn.pool.cancel(requestId)) {
        // queued behind busy instances: it is given up, so no process will ever run it
        ex.cancelled = true
        this.#platformLog(ex, SIGTERM_FAILED)
        return
      }
      // its instance is starting (a cold start): the signal goes out once the process runs the event
      let settle!: (delivered: boolean) => void
      const promise = new Promise<boolean>((r) => (settle = r))
      ex.sigterm = { promise, settle, done: false }
      await promise
      return
    }
    ex.terminating = 'force'
    if (ex.pooled) {
      await ex.pooled.instance.terminate({ grace: false })
    } else {
      ex.cancelled = true
      ex.fn.pool.cancel(requestId)
    }
    // the run loop settles it once the invocation rejects; bound the wait in case it never does
    const timer = setTimeout(() => this.#finish(ex, 'ABORTED', scfStatus.REQUEST_CANCELED, null, 'terminated by force (TerminateAsyncEvent, GraceShutdown=false)'), 5000)
    timer.unref()
    await ex.done
    clearTimeout(timer)
  }

  /** Sends the SIGTERM a cold-starting event was promised, as soon as its process can receive it. */
  async #sendPendingSigterm(ex: Execution, pooled: PooledInstance, settled: () => boolean): Promise<void> {
    // code and image instances are up once acquired; a job's process is spawned by invoke(), a moment later
    while (!settled()) {
      if (pooled.instance.signal('SIGTERM')) return this.#settleSigterm(ex, true)
      if (pooled.instance.isExited && pooled.instance.mode !== 'job') break
      await new Promise((resolve) => setTimeout(resolve, SIGTERM_POLL_MS))
    }
    this.#settleSigterm(ex, false)
  }

  /** Writes the platform's line for a pending SIGTERM once: received, or failed (no process will run the event). */
  #settleSigterm(ex: Execution, delivered: boolean): void {
    const pending = ex.sigterm
    if (!pending || pending.done) return
    pending.done = true
    this.#platformLog(ex, delivered ? SIGTERM_RECEIVED : SIGTERM_FAILED)
    pending.settle(delivered)
  }

  /**
   * A failed invocation's error in its log, as SCF's runtime writes it: the handler's stack (which starts with the
   * error's name and message) on stderr for a 430, the platform's reason for the others.
   */
  #errorLog(ex: Execution, err: unknown, code: number): void {
    const time = Date.now()
    if (code === scfStatus.USER_CODE_EXCEPTION) {
      const e = err as { errorMessage?: unknown; errorType?: unknown; stack?: unknown } | null
      const message = typeof e?.errorMessage === 'string' ? e.errorMessage : messageOf(err)
      // the harness hands over the handler's own stack (code mode); an image function's error has none, and the
      // harness's own frames say nothing about the function
      const stack = typeof e?.stack === 'string' && !e.stack.startsWith('InvocationError') && e.stack.includes(message) ? e.stack : undefined
      const text = stack ?? `${typeof e?.errorType === 'string' ? e.errorType : 'Error'}: ${message}`
      for (const line of text.split('\n')) this.#appendLog(ex, { stream: 'stderr', line, time })
      return
    }
    this.#platformLog(ex, `[PLATFORM] ${messageOf(err)} (status ${code})`)
  }

  #platformLog(ex: Execution, line: string): void {
    this.#appendLog(ex, { stream: 'platform' as LogLine['stream'], line, time: Date.now() })
  }

  #onInstanceLog(requestId: string | undefined, line: LogLine): void {
    if (requestId === undefined) return
    const ex = this.#exec.get(requestId) ?? this.#ended.get(requestId)
    if (ex) this.#appendLog(ex, line)
  }

  #appendLog(ex: Execution, line: { stream: string; line: string; time: number; cut?: true }): void {
    if (line.cut && !ex.cutNoted) {
      // said once, before the first piece: a long line may still be arriving after the event ended
      ex.cutNoted = true
      this.#platformLog(ex, `[PLATFORM] A log line over ${MAX_LOG_LINE_BYTES / 1024} KiB was cut: its pieces (at most ${MAX_LOG_LINE_BYTES / 1024} KiB each) follow as separate lines.`)
    }
    if (ex.memLog) {
      // only the tail is ever returned (LogType Tail, 4 KB)
      ex.memLog.push(line.line)
      if (ex.memLog.length > 1000) ex.memLog.splice(0, 500)
      return
    }
    if (this.#closed) return
    if (ex.lines >= this.#maxLines) {
      ex.dropped++
      return
    }
    ex.lines++
    if (ex.tracked) this.#db.appendLog(ex.requestId, line.time, line.stream, line.line)
    this.emit('log', { requestId: ex.requestId, line: line.line, stream: line.stream, time: line.time })
  }
}

function toRecord(row: EventRow): AsyncEventRecord {
  return {
    requestId: row.requestId,
    functionName: row.functionName,
    namespace: row.namespace,
    qualifier: row.qualifier,
    invokeType: row.invokeType,
    status: row.status,
    statusCode: row.statusCode,
    startTime: Math.floor(row.startUs / 1000),
    endTime: row.endUs === null ? null : Math.floor(row.endUs / 1000),
    retMsg: row.retMsg,
    errMsg: row.errMsg,
    instanceId: row.instanceId ?? null,
  }
}

/** The SCF status code an invocation error carries (the harness's InvocationError has one; others get `fallback`). */
function statusOf(err: unknown, fallback: number): number {
  const code = (err as { statusCode?: unknown } | null)?.statusCode
  return typeof code === 'number' ? code : fallback
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function flag(value: boolean | undefined, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw invalidOption(name, value, 'true or false')
  return value
}

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw invalidOption(name, value, 'a positive number')
  return value
}

/** Resident memory of the instance's process, for Report lines and MemUsage (0 where /proc is missing). */
function rssBytes(pid: number | undefined): number {
  if (pid === undefined) return 0
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}
