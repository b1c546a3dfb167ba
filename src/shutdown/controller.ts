import { nowMs } from '../clock.js'
import { ShutdownError, invalidOption, type ShutdownReason } from '../errors.js'
import { fields, safeLogger, type Logger } from '../log.js'
import { exitAfterOutput } from './exit.js'
import { runHooks, sortHooks, type HookEntry, type HookOptions, type ShutdownHook } from './hooks.js'

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

const kController = Symbol.for('scf-graceful.controller.v1')
const EXIT_SIGINT = 130

class ShutdownController {
  state: ShutdownState = 'running'
  settings: ControllerSettings = { graceMs: 10_000, exitAfterShutdown: false, logger: safeLogger(undefined) }
  /** The running (or last) cycle; undefined while running. */
  cycle: Promise<void> | undefined
  private readonly hooks = new Set<HookEntry>()
  private readonly inflight = new Set<TrackedInvocation>()
  private drainWaiter: (() => void) | undefined
  private readonly participants = new Set<CycleParticipant>()
  private hookSeq = 0
  private installed = false
  private sigintWhileStopping = false
  private readonly onSigterm = () => this.handleSignal('SIGTERM')
  private readonly onSigint = () => this.handleSignal('SIGINT')

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

  configure(partial: Partial<Omit<ControllerSettings, 'logger'>> & { logger?: Logger | false }): void {
    if (partial.graceMs !== undefined) {
      if (typeof partial.graceMs !== 'number' || !(partial.graceMs >= 0) || !Number.isFinite(partial.graceMs)) throw invalidOption('graceMs', partial.graceMs, 'a finite number of ms >= 0')
      this.settings.graceMs = partial.graceMs
    }
    if (partial.exitAfterShutdown !== undefined) this.settings.exitAfterShutdown = Boolean(partial.exitAfterShutdown)
    if (partial.logger !== undefined) this.settings.logger = safeLogger(partial.logger)
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
    if (this.state !== 'running') tracked.abort(this.currentReason ?? new ShutdownError('manual'))
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
    if (this.state !== 'running' && this.cycle) {
      this.settings.logger.info(`${reason} received while stopping: ignored`)
      return this.cycle
    }
    this.cycle = this.runCycle(reason)
    return this.cycle
  }

  private handleSignal(signal: 'SIGTERM' | 'SIGINT'): void {
    if (this.state !== 'running') {
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
    this.state = 'stopping'
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
    const deadline = timeoutSignal(graceMs)
    const inflightDeadline = timeoutSignal(inflightMs)

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

    this.state = 'stopped'
    logger.info(`shutdown ${fields({ reason, state: 'stopped', ms: Math.round(nowMs() - started) })}`)
    if (this.settings.exitAfterShutdown || reason === 'SIGINT') {
      exitAfterOutput(reason === 'SIGINT' ? EXIT_SIGINT : 0)
      // as after process.exit(): nothing that awaits this cycle runs on while the output drains
      return new Promise<never>(() => {})
    }
    // the process lives on (code deployment: SCF's runtime owns it): re-arm for the next invocation
    this.currentReason = undefined
    this.cycle = undefined
    this.state = 'running'
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

/** An AbortSignal that aborts after `ms`, on an unref'd timer (AbortSignal.timeout's timer keeps no process alive either, but this one also works when ms is 0). */
export function timeoutSignal(ms: number): AbortSignal {
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(new Error(`deadline of ${ms} ms passed`)), ms)
  timer.unref()
  return ac.signal
}

export function abortedPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}

/** The one controller of this process. */
export function getController(): ShutdownController {
  const g = globalThis as Record<symbol, ShutdownController | undefined>
  return (g[kController] ??= new ShutdownController())
}

export type { ShutdownController }
