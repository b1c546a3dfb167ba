import { nowMs } from '../clock.js'
import { ShutdownError, invalidOption, type ShutdownReason } from '../errors.js'
import { fields, safeLogger, type Logger } from '../log.js'
import { exitAfterOutput } from './exit.js'
import { runHooks, sortHooks, type HookEntry, type HookOptions, type ShutdownHook } from './hooks.js'
import { deadlineSignal, installAbortCompat } from '../compat/abort.js'

/**
 * The process-wide shutdown controller: one per process, even when the ESM and the CJS build of this package are
 * both loaded (it lives under a versioned `Symbol.for` key, so whichever copy loads first owns it).
 *
 * state: running -> stopping -> stopped (-> running again when the process lives on, e.g. code deployments)
 */

export type ShutdownState = 'running' | 'stopping' | 'stopped'

export interface ControllerSettings {
  /** Bound for one whole shutdown cycle (hooks, in-flight work, flush). @default 10000 */
  graceMs: number
  /** Exit the process after a cycle (image and job deployments). @default false */
  exitAfterShutdown: boolean
  logger: Logger
}

/**
 * The settings that belong to the process, not to one handler: one cycle, one exit, one log. Each is set once, by the
 * first adapter (graceful(), eventInvokeRouter()/serveEventFunction(), runJob()) that gives it; a later different
 * value is logged as a warning and ignored, never silently applied. A deployment shape's own default (an image exits
 * after the cycle) yields to a value someone gave.
 */
export interface ProcessSettings {
  graceMs?: number
  exitAfterShutdown?: boolean
  logger?: Logger | false
}

/** What an adapter may do with the process-wide controller: nothing else of it is reachable from outside src/shutdown. */
export interface ShutdownControl {
  /** The process's logger (safe: a throwing logger cannot break the caller). */
  readonly logger: Logger
  /** The process's bound for one cycle. */
  readonly graceMs: number
  /** 'running', 'stopping' or 'stopped'. */
  readonly state: ShutdownState
  /** Starts tracking one invocation: the cycle aborts it, waits for it, and gives up on it at its in-flight deadline. */
  track(requestId: string): TrackedInvocation
  /** Joins the cycle at its fixed points; returns the function that leaves it (call it when the adapter stops). */
  addParticipant(participant: CycleParticipant): () => void
  /** Resolves when the running cycle ended (at once when none runs); for an exiting process, never. */
  awaitCycle(): Promise<void>
  /** Starts a cycle (or returns the running one). */
  shutdown(reason?: ShutdownReason): Promise<void>
}

/** A participant that runs at fixed points of the cycle (adapters use it; the core knows nothing about them). */
export interface CycleParticipant {
  /** Called synchronously as the cycle begins, before in-flight work is aborted (e.g. start answering 503). */
  onStopping?(reason: ShutdownReason): void
  /** Final flush of state (persistence): after in-flight work settled or its share of the deadline passed. */
  onFlush?(signal: AbortSignal): Promise<void>
  /** Last step before the exit policy (e.g. close the HTTP server). */
  onFinalize?(signal: AbortSignal): Promise<void>
  /** Called after the cycle, when the controller re-arms (the process lives on). */
  onRearm?(): void
}

/**
 * An in-flight unit of work as the controller tracks it. Cheap on purpose (it is created per invocation): the
 * AbortController exists only once someone reads `signal`, and no listener is attached to anything.
 */
export class TrackedInvocation {
  private ac: AbortController | undefined
  private error: ShutdownError | undefined
  /** Called by the controller when a cycle's deadline for in-flight work passes while this one still runs. */
  onGiveUp: ((error: ShutdownError) => void) | undefined

  constructor(
    readonly requestId: string,
    private readonly owner: ShutdownController,
  ) {}

  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController()
      if (this.error) this.ac.abort(this.error)
    }
    return this.ac.signal
  }

  get isAborted(): boolean {
    return this.error !== undefined
  }

  /** The ShutdownError this work was aborted with, if it was. */
  get abortReason(): ShutdownError | undefined {
    return this.error
  }

  /** Aborts this invocation alone (timeout margin, client gone) or as part of a cycle. The first cause wins. */
  abort(reason: ShutdownReason | ShutdownError): void {
    if (this.error) return
    this.error = typeof reason === 'string' ? new ShutdownError(reason) : reason
    this.ac?.abort(this.error)
  }

  /** Marks the work as settled (handler returned or was given up on). */
  end(): void {
    this.onGiveUp = undefined
    this.owner.untrack(this)
  }
}

// v2: the controller's shape changed (private state, set-once settings); a copy of an older version keeps its own
const kController = Symbol.for('scf-graceful.controller.v2')
const EXIT_SIGINT = 130

type SettingName = keyof ProcessSettings

class ShutdownController {
  private stateNow: ShutdownState = 'running'
  private readonly settings: ControllerSettings = { graceMs: 10_000, exitAfterShutdown: false, logger: safeLogger(undefined) }
  /** Who set each process-level setting, and the value as given (a logger before safeLogger wrapped it). */
  private readonly settingOrigin = new Map<SettingName, { by: string; given: unknown; explicit: boolean }>()
  /** The running (or last) cycle; undefined while running. */
  private cycle: Promise<void> | undefined
  private readonly hooks = new Set<HookEntry>()
  private readonly inflight = new Set<TrackedInvocation>()
  private drainWaiter: (() => void) | undefined
  private readonly participants = new Set<CycleParticipant>()
  private hookSeq = 0
  private installed = false
  private sigintWhileStopping = false
  private readonly onSigterm = () => this.handleSignal('SIGTERM')
  private readonly onSigint = () => this.handleSignal('SIGINT')

  get state(): ShutdownState {
    return this.stateNow
  }

  get logger(): Logger {
    return this.settings.logger
  }

  get graceMs(): number {
    return this.settings.graceMs
  }

  /** Adds the SIGTERM/SIGINT listeners (idempotent). */
  install(): void {
    if (this.installed) return
    this.installed = true
    process.on('SIGTERM', this.onSigterm)
    process.on('SIGINT', this.onSigint)
  }

  /** Removes every listener this controller added: Node's default behaviour (die on SIGTERM) comes back. */
  uninstall(): void {
    if (!this.installed) return
    this.installed = false
    process.removeListener('SIGTERM', this.onSigterm)
    process.removeListener('SIGINT', this.onSigint)
  }

  /**
   * Sets the process-level settings `given` by an adapter (`by` names it in warnings), and the shape's `defaults`
   * where nothing was given. Set once: the first given value wins, a later different one is a warning.
   */
  configure(given: ProcessSettings, by: string, defaults: ProcessSettings = {}): void {
    if (given.graceMs !== undefined && (typeof given.graceMs !== 'number' || !(given.graceMs >= 0) || !Number.isFinite(given.graceMs))) {
      throw invalidOption('graceMs', given.graceMs, 'a finite number of ms >= 0')
    }
    for (const name of ['logger', 'graceMs', 'exitAfterShutdown'] as const) {
      const explicit = given[name] !== undefined
      const value = explicit ? given[name] : defaults[name]
      if (value === undefined) continue
      const origin = this.settingOrigin.get(name)
      // a shape's default yields to a value someone gave, and never overrides one
      if (!origin || (explicit && !origin.explicit)) {
        this.settingOrigin.set(name, { by, given: value, explicit })
        this.apply(name, value)
        continue
      }
      if (origin.given === value || (!explicit && origin.explicit)) continue
      const shown = (v: unknown) => (name === 'logger' ? (v === false ? 'false' : 'another logger') : String(v))
      this.settings.logger.warn(`${name}=${shown(value)} from ${by} ignored: this process already uses ${name}=${shown(origin.given)} from ${origin.by} (process-level settings are set once)`)
    }
  }

  private apply(name: SettingName, value: unknown): void {
    if (name === 'graceMs') this.settings.graceMs = value as number
    else if (name === 'exitAfterShutdown') this.settings.exitAfterShutdown = Boolean(value)
    else this.settings.logger = safeLogger(value as Logger | false)
  }

  /** Resolves when the running cycle ended (at once when none runs). */
  awaitCycle(): Promise<void> {
    return this.cycle ?? Promise.resolve()
  }

  addHook(hook: ShutdownHook, options: HookOptions = {}): () => void {
    if (typeof hook !== 'function') throw invalidOption('hook', hook, 'a function')
    if (options.priority !== undefined && !Number.isFinite(options.priority)) throw invalidOption('priority', options.priority, 'a finite number')
    if (options.timeoutMs !== undefined && !(options.timeoutMs >= 0)) throw invalidOption('timeoutMs', options.timeoutMs, 'a number of ms >= 0')
    this.hookSeq += 1
    const entry: HookEntry = {
      hook,
      name: options.name ?? (hook.name || `hook#${this.hookSeq}`),
      priority: options.priority ?? 0,
      timeoutMs: options.timeoutMs,
      seq: this.hookSeq,
    }
    this.hooks.add(entry)
    return () => {
      this.hooks.delete(entry)
    }
  }

  addParticipant(participant: CycleParticipant): () => void {
    this.participants.add(participant)
    return () => {
      this.participants.delete(participant)
    }
  }

  /** Starts tracking a unit of work; it is aborted at once if a cycle is already running. */
  track(requestId: string): TrackedInvocation {
    const tracked = new TrackedInvocation(requestId, this)
    this.inflight.add(tracked)
    if (this.stateNow !== 'running') tracked.abort(this.currentReason ?? new ShutdownError('manual'))
    return tracked
  }

  /** @internal called by TrackedInvocation.end() */
  untrack(tracked: TrackedInvocation): void {
    if (this.inflight.delete(tracked) && this.inflight.size === 0) this.drainWaiter?.()
  }

  private currentReason: ShutdownError | undefined

  /** Resolves once no work is in flight. */
  private drained(): Promise<void> {
    if (this.inflight.size === 0) return Promise.resolve()
    return new Promise<void>((resolve) => {
      this.drainWaiter = () => {
        this.drainWaiter = undefined
        resolve()
      }
    })
  }

  /** Starts a cycle (or returns the running one). */
  shutdown(reason: ShutdownReason = 'manual'): Promise<void> {
    // 'stopped' lasts only while an exiting process drains its output: it is still the same cycle
    if (this.stateNow !== 'running' && this.cycle) {
      this.settings.logger.info(`${reason} received while stopping: ignored`)
      return this.cycle
    }
    this.cycle = this.runCycle(reason)
    return this.cycle
  }

  private handleSignal(signal: 'SIGTERM' | 'SIGINT'): void {
    if (this.stateNow !== 'running') {
      if (signal === 'SIGINT') {
        if (this.sigintWhileStopping || this.currentReason?.reason === 'SIGINT') {
          // second Ctrl-C: the person at the terminal wants out now
          this.settings.logger.warn('second SIGINT: exiting at once')
          process.exit(EXIT_SIGINT)
        }
        this.sigintWhileStopping = true
      }
      this.settings.logger.info(`${signal} received while stopping: ignored`)
      return
    }
    void this.shutdown(signal)
  }

  private async runCycle(reason: ShutdownReason): Promise<void> {
    // abort first: handlers learn of the stop before anything else is built or logged
    this.stateNow = 'stopping'
    this.sigintWhileStopping = false
    // the stack of an error made in a signal listener says nothing useful, and capturing it costs time here
    const stackTraceLimit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    const error = new ShutdownError(reason)
    Error.stackTraceLimit = stackTraceLimit
    this.currentReason = error
    const participants = [...this.participants]
    for (const p of participants) if (p.onStopping) safely(this.settings.logger, 'onStopping', () => p.onStopping!(reason))
    const aborted = [...this.inflight]
    for (const entry of aborted) entry.abort(error)

    const { graceMs, logger } = this.settings
    const started = nowMs()
    const hasFlush = participants.some((p) => p.onFlush)
    // in-flight work gets the first 70% of the grace period when a flush must follow, so a handler that ignores its
    // signal cannot eat the time the flush needs
    const inflightMs = hasFlush ? Math.floor(graceMs * 0.7) : graceMs
    // both deadlines end with the cycle: one that finished in time leaves no timer behind to abort them later
    const deadlineTimer = deadlineSignal(graceMs)
    const inflightTimer = deadlineSignal(inflightMs)
    const deadline = deadlineTimer.signal
    const inflightDeadline = inflightTimer.signal
    try {
      logger.info(`shutdown ${fields({ reason, state: 'stopping', inflight: aborted.length, hooks: this.hooks.size, graceMs })}`)
      for (const entry of aborted) logger.info(`invocation aborted ${fields({ requestId: entry.requestId, reason })}`)

      const hooksDone = runHooks(sortHooks(this.hooks), reason, inflightDeadline, logger)
      const drained = await Promise.race([Promise.all([hooksDone, this.drained()]).then(() => true), abortedPromise(inflightDeadline).then(() => false)])
      if (!drained) {
        logger.warn(`shutdown deadline for in-flight work passed ${fields({ inflight: this.inflight.size, ms: inflightMs })}`)
        for (const entry of [...this.inflight]) {
          const current = entry.abortReason ?? error
          entry.onGiveUp?.(new ShutdownError(current.reason, { code: 'SCFG_ERR_SHUTDOWN_DEADLINE', cause: current }))
        }
      }

      for (const p of participants) {
        if (!p.onFlush) continue
        await boundedStep(logger, 'flush', p.onFlush.bind(p), deadline)
      }
      for (const p of participants) {
        if (!p.onFinalize) continue
        await boundedStep(logger, 'finalize', p.onFinalize.bind(p), deadline)
      }
    } finally {
      deadlineTimer.clear()
      inflightTimer.clear()
    }

    this.stateNow = 'stopped'
    logger.info(`shutdown ${fields({ reason, state: 'stopped', ms: Math.round(nowMs() - started) })}`)
    if (this.settings.exitAfterShutdown || reason === 'SIGINT') {
      exitAfterOutput(reason === 'SIGINT' ? EXIT_SIGINT : 0)
      // as after process.exit(): nothing that awaits this cycle runs on while the output drains
      return new Promise<never>(() => {})
    }
    // the process lives on (code deployment: SCF's runtime owns it): re-arm for the next invocation
    this.currentReason = undefined
    this.cycle = undefined
    this.stateNow = 'running'
    for (const p of participants) safely(logger, 'onRearm', () => p.onRearm?.())
  }
}

function safely(logger: Logger, what: string, fn: () => void): void {
  try {
    fn()
  } catch (err) {
    logger.error(`${what} failed: ${(err as Error)?.message ?? String(err)}`)
  }
}

async function boundedStep(logger: Logger, what: string, fn: (signal: AbortSignal) => Promise<void>, deadline: AbortSignal): Promise<void> {
  try {
    await Promise.race([fn(deadline), abortedPromise(deadline).then(() => Promise.reject(new Error(`${what} cut off by the shutdown deadline`)))])
  } catch (err) {
    logger.error(`${what} failed: ${(err as Error)?.message ?? String(err)}`)
  }
}

/** An AbortSignal that aborts with a plain Error after `ms`, on an unref'd timer (see deadlineSignal). */
export function timeoutSignal(ms: number): AbortSignal {
  return deadlineSignal(ms).signal
}

export function abortedPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}

/** The one controller of this process (src/shutdown only; adapters get a ShutdownControl from joinShutdown()). */
export function getController(): ShutdownController {
  // Node 16.13 (SCF's Nodejs16.13): AbortSignal without reason/throwIfAborted, which this code relies on
  installAbortCompat()
  const g = globalThis as Record<symbol, ShutdownController | undefined>
  return (g[kController] ??= new ShutdownController())
}

/**
 * How an adapter joins the process's shutdown: sets the process-level settings once (see ProcessSettings), installs
 * the signal listeners, and returns the narrow view adapters work through.
 *
 * @example
 * const control = joinShutdown({ graceMs: options.graceMs, logger: options.logger }, 'graceful()', { exitAfterShutdown: false })
 * const tracked = control.track(requestId)
 */
export function joinShutdown(settings: ProcessSettings, by: string, defaults: ProcessSettings = {}): ShutdownControl {
  const controller = getController()
  controller.configure(settings, by, defaults)
  controller.install()
  return {
    get logger() {
      return controller.logger
    },
    get graceMs() {
      return controller.graceMs
    },
    get state() {
      return controller.state
    },
    track: (requestId) => controller.track(requestId),
    addParticipant: (participant) => controller.addParticipant(participant),
    awaitCycle: () => controller.awaitCycle(),
    shutdown: (reason) => controller.shutdown(reason),
  }
}

export type { ShutdownController }
