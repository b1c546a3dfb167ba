import { ShutdownError, invalidOption, type ShutdownReason } from '../errors.js'
import { fields, safeLogger, type Logger } from '../log.js'
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

interface InFlight {
  requestId: string
  abort(error: ShutdownError): void
  settled: Promise<void>
}

/** An in-flight unit of work as the controller tracks it. */
export interface TrackedInvocation {
  readonly signal: AbortSignal
  /** Aborts this invocation alone (timeout margin, client gone). The first cause wins. */
  abort(reason: ShutdownReason): void
  /** Resolves when the current shutdown cycle's deadline for in-flight work passes (never if none starts). */
  readonly deadline: Promise<ShutdownError>
  /** Marks the work as settled (handler returned or was given up on). */
  end(): void
}

const kController = Symbol.for('scf-graceful.controller.v1')
const EXIT_SIGINT = 130

class ShutdownController {
  state: ShutdownState = 'running'
  settings: ControllerSettings = { graceMs: 10_000, exitAfterShutdown: false, logger: safeLogger(undefined) }
  /** The running (or last) cycle; undefined while running. */
  cycle: Promise<void> | undefined
  private readonly hooks = new Set<HookEntry>()
  private readonly inflight = new Set<InFlight>()
  private readonly participants = new Set<CycleParticipant>()
  private hookSeq = 0
  private installed = false
  private sigintWhileStopping = false
  private inflightDeadline: { promise: Promise<void>; resolve: () => void } | undefined
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

  get isInstalled(): boolean {
    return this.installed
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

  /** Starts tracking a unit of work; its signal aborts on shutdown (at once if a cycle is already running). */
  track(requestId: string): TrackedInvocation {
    const ac = new AbortController()
    let resolveSettled!: () => void
    const settled = new Promise<void>((r) => (resolveSettled = r))
    const entry: InFlight = { requestId, abort: (error) => ac.abort(error), settled }
    this.inflight.add(entry)
    const controller = this
    let deadline: Promise<ShutdownError> | undefined
    const tracked: TrackedInvocation = {
      signal: ac.signal,
      abort(reason) {
        if (!ac.signal.aborted) ac.abort(new ShutdownError(reason))
      },
      get deadline() {
        return (deadline ??= controller.deadlineFor(ac.signal))
      },
      end() {
        controller.inflight.delete(entry)
        resolveSettled()
      },
    }
    if (this.state === 'stopping') ac.abort(this.currentReason ?? new ShutdownError('manual'))
    return tracked
  }

  private currentReason: ShutdownError | undefined

  /** Resolves with a deadline error once a cycle's in-flight deadline passes, for work aborted by that cycle. */
  private deadlineFor(signal: AbortSignal): Promise<ShutdownError> {
    return new Promise<ShutdownError>((resolve) => {
      const wait = () => {
        const reason = signal.reason as ShutdownError
        // only a process-wide cycle has a deadline here; per-invocation aborts (timeout, client) are bounded by their adapter
        if (!this.inflightDeadline || reason?.reason === 'timeout' || reason?.reason === 'client-closed') return
        void this.inflightDeadline.promise.then(() =>
          resolve(new ShutdownError(reason?.reason ?? 'manual', { code: 'SCFG_ERR_SHUTDOWN_DEADLINE', cause: reason })),
        )
      }
      if (signal.aborted) wait()
      else signal.addEventListener('abort', wait, { once: true })
    })
  }

  get inflightCount(): number {
    return this.inflight.size
  }

  /** Starts a cycle (or returns the running one). */
  shutdown(reason: ShutdownReason = 'manual'): Promise<void> {
    if (this.state === 'stopping' && this.cycle) {
      this.settings.logger.info(`${reason} received while stopping: ignored`)
      return this.cycle
    }
    this.cycle = this.runCycle(reason)
    return this.cycle
  }

  private handleSignal(signal: 'SIGTERM' | 'SIGINT'): void {
    if (this.state === 'stopping') {
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
    const { graceMs, logger } = this.settings
    const started = performance.now()
    this.state = 'stopping'
    this.sigintWhileStopping = false
    const error = new ShutdownError(reason)
    this.currentReason = error
    const participants = [...this.participants]
    const hasFlush = participants.some((p) => p.onFlush)
    // in-flight work gets the first 70% of the grace period when a flush must follow, so a handler that ignores its
    // signal cannot eat the time the flush needs
    const inflightMs = hasFlush ? Math.floor(graceMs * 0.7) : graceMs
    const deadline = timeoutSignal(graceMs)
    const inflightDeadline = timeoutSignal(inflightMs)
    let resolveInflightDeadline!: () => void
    this.inflightDeadline = { promise: new Promise<void>((r) => (resolveInflightDeadline = r)), resolve: () => resolveInflightDeadline() }
    inflightDeadline.addEventListener('abort', () => resolveInflightDeadline(), { once: true })

    logger.info(`shutdown ${fields({ reason, state: 'stopping', inflight: this.inflight.size, hooks: this.hooks.size, graceMs })}`)
    for (const p of participants) safely(logger, 'onStopping', () => p.onStopping?.(reason))
    for (const entry of this.inflight) {
      entry.abort(error)
      logger.info(`invocation aborted ${fields({ requestId: entry.requestId, reason })}`)
    }

    const hooksDone = runHooks(sortHooks(this.hooks), reason, inflightDeadline, logger)
    const settled = Promise.all([...this.inflight].map((e) => e.settled))
    const drained = await Promise.race([Promise.all([hooksDone, settled]).then(() => true), abortedPromise(inflightDeadline).then(() => false)])
    if (!drained) logger.warn(`shutdown deadline for in-flight work passed ${fields({ inflight: this.inflight.size, ms: inflightMs })}`)
    resolveInflightDeadline()

    for (const p of participants) {
      if (!p.onFlush) continue
      await boundedStep(logger, 'flush', p.onFlush.bind(p), deadline)
    }
    for (const p of participants) {
      if (!p.onFinalize) continue
      await boundedStep(logger, 'finalize', p.onFinalize.bind(p), deadline)
    }

    this.state = 'stopped'
    logger.info(`shutdown ${fields({ reason, state: 'stopped', ms: Math.round(performance.now() - started) })}`)
    if (this.settings.exitAfterShutdown || reason === 'SIGINT') {
      process.exit(reason === 'SIGINT' ? EXIT_SIGINT : 0)
    }
    // the process lives on (code deployment: SCF's runtime owns it): re-arm for the next invocation
    this.inflightDeadline = undefined
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
