import { ScfGracefulError, ShutdownError, invalidOption } from '../errors.js'
import { fields, type Logger } from '../log.js'
import type { ScfContext } from '../scf/context.js'
import { joinShutdown, timeoutSignal, type ShutdownControl, type TrackedInvocation } from '../shutdown/controller.js'
import type { PersistOptions, PersistenceRuntime } from '../persistence/runtime.js'
import { nowMs } from '../clock.js'
import type { Exchange } from './drain.js'

/**
 * The runtime-agnostic core that every deployment shape shares (code: graceful(), image: the Express adapter,
 * job: runJob). It runs one handler per invocation with its own AbortSignal, the timeout margin, persistence, and
 * the settle-at-deadline rule; adapters only translate their transport into (event, context) and back.
 */

/** What a handler gets besides the event and the context. */
export interface Invocation {
  /** Aborted on SIGTERM/SIGINT, `timeoutMarginMs` before the invocation's timeout, on shutdown(), or when the client goes away. `reason` is a ShutdownError. */
  readonly signal: AbortSignal
  /** True once `signal` is aborted: check it between units of work. */
  readonly shouldStop: boolean
  readonly requestId: string
  /** ms until the invocation's own timeout (Infinity when the platform did not say). */
  remainingTimeMs(): number
  /** Throws the ShutdownError if the invocation should stop. */
  throwIfStopped(): void
  /** Snapshots the persisted root now (coalesced with a running one). Rejects with SCFG_ERR_PERSIST_NOT_CONFIGURED without `persist`. */
  checkpoint(): Promise<void>
}

export type Handler<TEvent = unknown, TResult = unknown> = (event: TEvent, context: ScfContext, inv: Invocation) => TResult | Promise<TResult>

export interface RuntimeOptions {
  /**
   * Bound for the whole shutdown cycle after SIGTERM: hooks, in-flight handlers and the final flush.
   * SCF does not document how long it waits before a hard kill; 10 s is what Cloud Run gives.
   * @default 10000
   */
  graceMs?: number
  /**
   * Abort an invocation this long before its own timeout (reason 'timeout'), so it can save state before the
   * platform kills it with 433.
   * @default Math.min(3000, timeout / 10)
   */
  timeoutMarginMs?: number
  /** Exit the process (code 0) after a shutdown cycle. @default false for code deployments, true for image and job */
  exitAfterShutdown?: boolean
  /** Any logger with info/warn/error(message); `false` for silence. @default console */
  logger?: Logger | false
  /** Save and restore a directory (default /tmp on SCF) through a store. */
  persist?: PersistOptions
}

export interface InvokeExtras {
  /** Aborts the invocation with reason 'client-closed' (a transport whose requests carry an AbortSignal). */
  clientSignal?: AbortSignal
  /** The request's exchange from a Drain (src/runtime/drain.ts): its clientGone() aborts with reason 'client-closed'. */
  exchange?: Exchange
  /**
   * Run the handler even when a shutdown began while the invocation waited for the start-up restore (it then starts
   * with `inv.shouldStop === true`). A job passes false: it settles with the ShutdownError instead.
   * @default true
   */
  startIfStopped?: boolean
}

export interface FunctionRuntime<TEvent, TResult> {
  invoke(event: TEvent, context: ScfContext, extras?: InvokeExtras): Promise<TResult>
  /**
   * Resolves once the start-up restore round is over, restored or not (at once without persistence); rejects only if
   * the persistence engine failed to load. A failed restore is retried by the next invocation.
   */
  readonly ready: Promise<void>
  /**
   * Why the last final flush (the shutdown cycle's snapshot) did not save the state: its error, or an error saying
   * the deadline cut it off. Undefined when it succeeded or never ran. runJob turns it into a non-zero exit.
   */
  flushFailure(): unknown
  /** The adapter's view of the process's shutdown controller. */
  readonly control: ShutdownControl
  /** Leaves the shutdown cycle (the adapter stopped): no flush of this runtime's root, no periodic checkpoints. */
  close(): void
}

interface ShapeDefaults {
  /** Names the adapter in warnings about conflicting process-level settings. */
  name: string
  exitAfterShutdown: boolean
  /** Code deployments return only after the shutdown cycle (hooks, flush) finished; servers answer first. */
  awaitCycle: boolean
}

export function resolveTimeoutMargin(option: number | undefined, timeLimitMs: number | undefined): number {
  if (option !== undefined) return option
  if (timeLimitMs === undefined) return 0
  return Math.min(3000, Math.floor(timeLimitMs / 10))
}

export function validateRuntimeOptions(options: RuntimeOptions): void {
  if (options === null || typeof options !== 'object') throw invalidOption('options', options, 'an object')
  const { timeoutMarginMs, persist } = options
  if (timeoutMarginMs !== undefined && (typeof timeoutMarginMs !== 'number' || !(timeoutMarginMs >= 0))) {
    throw invalidOption('timeoutMarginMs', timeoutMarginMs, 'a number of ms >= 0')
  }
  if (options.logger !== undefined && options.logger !== false && (typeof options.logger !== 'object' || typeof options.logger.info !== 'function')) {
    throw invalidOption('logger', options.logger, 'an object with info/warn/error methods, or false')
  }
  if (persist !== undefined && (persist === null || typeof persist !== 'object' || !persist.store || typeof persist.store.put !== 'function')) {
    throw invalidOption('persist.store', persist?.store, 'a SnapshotStore (memoryStore(), fsStore(), s3Store(), redisStore())')
  }
  // the persistence engine loads lazily; its simple options are checked here so a typo fails at start, not at the first invocation
  if (persist?.checkpointIntervalMs !== undefined && !(Number.isInteger(persist.checkpointIntervalMs) && persist.checkpointIntervalMs >= 0)) {
    throw invalidOption('persist.checkpointIntervalMs', persist.checkpointIntervalMs, 'an integer >= 0 (0 = off)')
  }
  if (persist?.restoreOnStart !== undefined && typeof persist.restoreOnStart !== 'boolean') throw invalidOption('persist.restoreOnStart', persist.restoreOnStart, 'a boolean')
  if (persist?.onRestoreError !== undefined && persist.onRestoreError !== 'fail' && persist.onRestoreError !== 'start-fresh') {
    throw invalidOption('persist.onRestoreError', persist.onRestoreError, '"fail" or "start-fresh"')
  }
  // the same rule as src/persistence/layout.ts KEY_PATTERN (copied: importing it would pull the engine into the core entry)
  if (persist?.key !== undefined && (typeof persist.key !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(persist.key))) {
    throw invalidOption('persist.key', persist.key, '"/"-separated segments of letters, digits, ".", "_" and "-", each starting with a letter or digit')
  }
  if (persist?.root !== undefined && (typeof persist.root !== 'string' || persist.root === '')) throw invalidOption('persist.root', persist.root, 'a directory path')
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown }

export function createFunctionRuntime<TEvent, TResult>(
  handler: Handler<TEvent, TResult>,
  options: RuntimeOptions,
  shape: ShapeDefaults,
): FunctionRuntime<TEvent, TResult> {
  if (typeof handler !== 'function') throw invalidOption('handler', handler, 'a function (event, context, inv) => result')
  validateRuntimeOptions(options)
  // graceMs, logger and exitAfterShutdown belong to the process (one cycle, one exit): set once, see ProcessSettings
  const controller = joinShutdown({ graceMs: options.graceMs, logger: options.logger, exitAfterShutdown: options.exitAfterShutdown }, shape.name, { exitAfterShutdown: shape.exitAfterShutdown })
  const logger = () => controller.logger

  // the persistence engine, loaded lazily through the package's own public entry (the core entry stays one
  // self-contained file); undefined without `persist`
  let persistence: Promise<PersistenceRuntime> | undefined
  let loaded: PersistenceRuntime | undefined
  // one restore round at a time, shared by every invocation waiting for it; aborted by a shutdown cycle's flush step
  let restoreRound: Promise<void> | undefined
  let restoreAbort: AbortController | undefined
  let lastFlush: { done: boolean; error?: unknown } | undefined
  let closed = false
  let leaveCycle: (() => void) | undefined
  if (options.persist) {
    const persist = options.persist
    persistence = import('scf-graceful/persistence').then(({ createPersistenceRuntime }) => {
      const runtime = createPersistenceRuntime(persist, { logger: logger() })
      if (closed) return runtime
      leaveCycle = controller.addParticipant({
        onFlush(signal) {
          // the cycle's in-flight share is over (the invocations waiting for the restore settled or were given up
          // on): a restore still running stops here, leaving the store as it was, and the flush below refuses the
          // half-restored root
          restoreAbort?.abort()
          // the cycle only logs a failed flush; whoever reports the outcome (runJob's exit code) must learn of it
          const state: { done: boolean; error?: unknown } = { done: false }
          lastFlush = state
          return runtime.flush(signal).then(
            () => { state.done = true },
            (error: unknown) => {
              state.done = true
              state.error = error ?? new Error('the final flush failed')
              throw error
            },
          )
        },
        // the final flush stops periodic checkpoints; a process that lives on (code deployment) gets them back
        onRearm: () => runtime.startInterval(),
      })
      loaded = runtime
      return runtime
    })
  }

  /** The running restore round, a new one if the root is not complete yet, or undefined when it is (no wait at all). */
  function ensureRestored(runtime: PersistenceRuntime): Promise<void> | undefined {
    const state = runtime.restoreState
    if (state === 'complete' || state === 'fresh') return undefined
    if (!restoreRound) {
      const ac = new AbortController()
      restoreAbort = ac
      restoreRound = runtime
        .restore(ac.signal)
        .then(() => {
          if (!closed) runtime.startInterval()
        })
        .finally(() => {
          restoreRound = undefined
          if (restoreAbort === ac) restoreAbort = undefined
        })
    }
    return restoreRound
  }

  // the first round starts now, before any invocation arrives: an event must find its state back
  const startup = persistence?.then((runtime) => ensureRestored(runtime)?.catch(() => {}))

  async function invoke(event: TEvent, context: ScfContext, extras?: InvokeExtras): Promise<TResult> {
    const requestId = context.requestId
    // tracked from the start: a SIGTERM while this invocation waits for the restore is part of its cycle
    const tracked = controller.track(requestId)
    const started = nowMs()
    const timeLimitMs = context.timeLimitMs
    let timer: NodeJS.Timeout | undefined
    const clientSignal = extras?.clientSignal
    const onClientClosed = () => tracked.abort('client-closed')
    if (clientSignal) {
      if (clientSignal.aborted) onClientClosed()
      else clientSignal.addEventListener('abort', onClientClosed, { once: true })
    }
    const exchange = extras?.exchange
    if (exchange) {
      if (exchange.isClientGone) onClientClosed()
      else exchange.onClientGone = onClientClosed
    }
    let runtime: PersistenceRuntime | undefined

    // one promise settles the invocation: the handler, the cycle's deadline, the time limit, or a failed restore,
    // whichever comes first
    const outcome = await new Promise<Outcome<TResult>>((resolve) => {
      let settled = false
      const settle = (o: Outcome<TResult>) => {
        settled = true
        resolve(o)
      }
      tracked.onGiveUp = (error) => settle({ ok: false, error })
      if (timeLimitMs !== undefined && timeLimitMs > 0) {
        const margin = resolveTimeoutMargin(options.timeoutMarginMs, timeLimitMs)
        // abort `margin` before the limit; then settle just before the platform's kill, so the caller gets a clear error
        timer = setTimeout(() => {
          tracked.abort('timeout')
          timer = setTimeout(() => settle({ ok: false, error: new ShutdownError('timeout', { code: 'SCFG_ERR_SHUTDOWN_DEADLINE' }) }), Math.max(0, margin - Math.min(50, margin)))
          timer.unref()
        }, Math.max(0, timeLimitMs - margin))
        timer.unref()
      }
      const start = () => {
        if (settled) return
        // a stop that came while the restore ran: the handler learns it from `inv` (or, for a job, never starts)
        if (tracked.isAborted && extras?.startIfStopped === false) return settle({ ok: false, error: tracked.abortReason })
        const inv = new InvocationImpl(tracked, requestId, started, timeLimitMs, runtime)
        let result: TResult | Promise<TResult>
        try {
          result = handler(event, context, inv)
        } catch (error) {
          settle({ ok: false, error })
          return
        }
        if (result !== null && typeof result === 'object' && typeof (result as Promise<TResult>).then === 'function') {
          ;(result as Promise<TResult>).then(
            (value) => settle({ ok: true, value }),
            (error: unknown) => settle({ ok: false, error }),
          )
        } else settle({ ok: true, value: result as TResult })
      }
      // the common case (no persistence, or the root already restored) takes no extra turn of the event loop
      if (!persistence) return start()
      if (loaded && !ensureRestored(loaded)) {
        runtime = loaded
        return start()
      }
      persistence
        .then((rt) => {
          runtime = rt
          const round = ensureRestored(rt)
          // an image listens before its restore is over: say why this invocation has not started yet
          if (round) logger().info(`invocation waits for the start-up restore ${fields({ requestId })}`)
          return round
        })
        .then(start, (error: unknown) => {
          // the handler must not run on a half-restored root; SCF reports the failure and the next invocation retries
          const code = (error as ScfGracefulError)?.code
          const what = code === 'SCFG_ERR_RESTORE_FAILED' ? 'the start-up restore did not complete' : 'the persistence engine failed to load'
          if (!settled) logger().error(`invocation failed: ${what} ${fields({ requestId, code })}`)
          settle({ ok: false, error })
        })
    })
    if (timer) clearTimeout(timer)
    clientSignal?.removeEventListener('abort', onClientClosed)
    if (exchange?.onClientGone === onClientClosed) exchange.onClientGone = undefined
    tracked.end()
    if (!outcome.ok && outcome.error instanceof ShutdownError && outcome.error.code === 'SCFG_ERR_SHUTDOWN_DEADLINE') {
      logger().warn(`handler did not settle in time ${fields({ requestId, reason: outcome.error.reason })}`)
    }

    const reason = tracked.abortReason?.reason
    if (reason === 'timeout' && runtime && timeLimitMs !== undefined) {
      // save what the handler left before the platform's 433 recycles the instance
      const left = timeLimitMs - (nowMs() - started) - 20
      if (left > 0) {
        try {
          await runtime.flush(timeoutSignal(left))
        } catch (err) {
          logger().error(`flush before timeout failed ${fields({ requestId })}: ${(err as Error)?.message ?? String(err)}`)
        }
        // the instance may serve more invocations (SCF reuses it when the handler returned in time)
        if (!closed) runtime.startInterval()
      }
    } else if (shape.awaitCycle && reason !== undefined && reason !== 'client-closed' && reason !== 'timeout') {
      // code deployment: the platform may freeze the instance once we return, so the hooks and flush finish first
      await controller.awaitCycle()
    }
    if (outcome.ok) return outcome.value
    throw outcome.error
  }

  const ready = startup ? startup.then(() => {}) : Promise.resolve()
  // a failed load reaches every invocation (and `ready` for whoever awaits it); never an unhandled rejection
  ready.catch(() => {})
  const flushFailure = (): unknown => {
    if (!lastFlush) return undefined
    return lastFlush.done ? lastFlush.error : new Error('the final flush did not finish before the shutdown deadline')
  }
  function close(): void {
    closed = true
    leaveCycle?.()
    leaveCycle = undefined
    loaded?.stopInterval()
  }

  return { invoke, ready, flushFailure, control: controller, close }
}

class InvocationImpl implements Invocation {
  constructor(
    private readonly tracked: TrackedInvocation,
    readonly requestId: string,
    private readonly started: number,
    private readonly timeLimitMs: number | undefined,
    private readonly runtime: PersistenceRuntime | undefined,
  ) {}

  get signal(): AbortSignal {
    return this.tracked.signal
  }

  get shouldStop(): boolean {
    return this.tracked.isAborted
  }

  remainingTimeMs(): number {
    return this.timeLimitMs === undefined ? Infinity : Math.max(0, this.timeLimitMs - (nowMs() - this.started))
  }

  throwIfStopped(): void {
    if (this.tracked.isAborted) throw this.tracked.abortReason
  }

  checkpoint(): Promise<void> {
    if (!this.runtime) return Promise.reject(new ScfGracefulError('SCFG_ERR_PERSIST_NOT_CONFIGURED', 'inv.checkpoint() needs the `persist` option'))
    return this.runtime.checkpoint()
  }
}
