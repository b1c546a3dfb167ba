import { ScfGracefulError, ShutdownError, invalidOption, type ShutdownReason } from './errors.js'
import { fields } from './log.js'
import { createFunctionRuntime, type Handler, type RuntimeOptions } from './runtime/function-runtime.js'
import { contextFromEnv } from './scf/context.js'
import { exitAfterOutput } from './shutdown/exit.js'

/**
 * Job image functions: no HTTP server; the event arrives in SCF_CUSTOM_CONTAINER_EVENT, the process runs the job
 * once and its exit code is the outcome (the instance is destroyed when the process exits).
 */

/** Exit codes of `runJob` / `scf-graceful run-job`. */
export const jobExitCodes = {
  /** The handler returned (also after SIGTERM, when it chose to return). */
  success: 0,
  /** The handler threw or rejected with its own error, or it returned but the final flush of `persist` failed (state not saved). */
  handlerFailed: 1,
  /** SCF_CUSTOM_CONTAINER_EVENT is not valid JSON (sysexits EX_DATAERR). */
  malformedEvent: 65,
  /**
   * The start-up restore (persist) did not complete: the handler did not run and the snapshot in the store was kept;
   * run the job again (sysexits EX_TEMPFAIL).
   */
  restoreFailed: 75,
  /** The job neared its timeout (SCF_TIMEOUT) and stopped, or did not settle before it (as the `timeout` command). */
  timeout: 124,
  /** Stopped by SIGINT (128 + 2). */
  interrupted: 130,
  /** Stopped by SIGTERM or shutdown(): the handler rejected with the ShutdownError, or did not settle in time (128 + 15). */
  stopped: 143,
} as const

/** Options of `runJob()`. */
export interface RunJobOptions extends Omit<RuntimeOptions, 'exitAfterShutdown'> {
  /**
   * Call `process.exit(code)` once the job, the hooks and the flush are done, so a forgotten handle (a timer, a
   * pool) cannot keep the container alive. `false`: only return the code.
   * @default true
   */
  exit?: boolean
  /** Where the event and the context come from. @default process.env */
  env?: NodeJS.ProcessEnv
}

const EVENT_ENV = 'SCF_CUSTOM_CONTAINER_EVENT'

function exitCodeFor(error: unknown): number {
  if (error instanceof ShutdownError) {
    if (error.reason === 'timeout') return jobExitCodes.timeout
    if (error.reason === 'SIGINT') return jobExitCodes.interrupted
    return jobExitCodes.stopped
  }
  if (error instanceof ScfGracefulError && error.code === 'SCFG_ERR_RESTORE_FAILED') return jobExitCodes.restoreFailed
  return jobExitCodes.handlerFailed
}

/**
 * Runs a Job image function once: the event from `SCF_CUSTOM_CONTAINER_EVENT` (JSON; missing or empty reads as
 * `{}`), the context from the `SCF_*` / `TENCENTCLOUD_*` environment, the same `inv` (signal, timeout margin,
 * persistence) as `graceful()`. When the handler settled, the shutdown cycle runs once (reason 'manual' if no
 * signal started it) so `onShutdown` hooks and the persistence flush happen before the exit. Resolves with the
 * exit code (see `jobExitCodes`) and, by default, exits the process with it.
 *
 * @example
 * // job.mjs, the container's CMD: ["node", "job.mjs"]
 * import { runJob } from 'scf-graceful'
 *
 * await runJob(async (event, context, inv) => {
 *   for (const file of event.files) {
 *     if (inv.shouldStop) throw inv.signal.reason // exit 143: stopped, state flushed
 *     await convert(file)
 *   }
 * })
 */
export async function runJob<TEvent = any, TResult = unknown>(handler: Handler<TEvent, TResult>, options: RunJobOptions = {}): Promise<number> {
  if (options === null || typeof options !== 'object') throw invalidOption('options', options, 'an object')
  const { exit = true, env = process.env, ...runtimeOptions } = options
  // the job decides the exit code itself, after the cycle: the controller must not exit with 0 on its own
  const runtime = createFunctionRuntime<TEvent, TResult>(handler, { ...runtimeOptions, exitAfterShutdown: false }, { name: 'runJob()', exitAfterShutdown: false, awaitCycle: true })
  const controller = runtime.control
  const logger = controller.logger
  let stopReason: ShutdownReason | undefined
  const offParticipant = controller.addParticipant({
    onStopping(reason) {
      stopReason ??= reason
    },
  })

  // the job is an operation in flight until its exit code is known: a handler that only waits for its signal (or
  // for the timeout) holds no handle, and the time limit's and the cycle's timers are unref'd, so without this Node
  // would exit 0 before the job ended (issue 10 item 3)
  const keepAlive = setInterval(() => {}, 1 << 30)
  const code = await (async () => {
    const raw = env[EVENT_ENV]
    let event: TEvent
    try {
      event = (raw === undefined || raw.trim() === '' ? {} : JSON.parse(raw)) as TEvent
    } catch (err) {
      logger.error(`${EVENT_ENV} is not valid JSON (SCFG_ERR_EVENT_MALFORMED): ${(err as Error).message}; exiting with ${jobExitCodes.malformedEvent}`)
      return jobExitCodes.malformedEvent
    }
    const context = contextFromEnv(env)
    const started = performance.now()
    let code: number = jobExitCodes.success
    try {
      if (stopReason) throw new ShutdownError(stopReason)
      // a signal while the start-up restore runs is part of this job's cycle: the job then never starts
      await runtime.invoke(event, context, { startIfStopped: false })
    } catch (err) {
      code = exitCodeFor(err)
      if (code === jobExitCodes.handlerFailed) logger.error(`job failed ${fields({ requestId: context.requestId })} error=${(err as Error)?.stack ?? String(err)}`)
      else if (code === jobExitCodes.restoreFailed) logger.error(`job not started ${fields({ requestId: context.requestId, code: (err as ScfGracefulError).code })}: ${(err as Error).message}`)
      else logger.warn(`job stopped ${fields({ requestId: context.requestId, reason: (err as ShutdownError).reason })}`)
    }
    // hooks and the final flush run once per job, also when it ended on its own
    if (controller.state !== 'running') await controller.awaitCycle()
    else if (!stopReason) await controller.shutdown('manual')
    // a job whose state was not saved did not succeed: exiting 0 would tell SCF (and the next run) it did
    const flushError = runtime.flushFailure()
    if (flushError !== undefined && code === jobExitCodes.success) {
      code = jobExitCodes.handlerFailed
      logger.error(`job state not saved ${fields({ requestId: context.requestId, code: (flushError as { code?: string })?.code })}: ${(flushError as Error)?.message ?? String(flushError)}; exiting with ${code}`)
    }
    logger.info(`job done ${fields({ requestId: context.requestId, exitCode: code, ms: Math.round(performance.now() - started) })}`)
    return code
  })().finally(() => clearInterval(keepAlive))

  offParticipant()
  // the job is over: its flush must not run again in a later cycle of a process that lives on (exit: false)
  runtime.close()
  if (exit) exitAfterOutput(code)
  return code
}
