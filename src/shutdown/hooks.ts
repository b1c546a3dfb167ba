import { ScfGracefulError, type ShutdownReason } from '../errors.js'
import type { Logger } from '../log.js'
import { nowMs } from '../clock.js'

/** What a hook receives besides the reason: the deadline, as a signal. */
export interface HookContext {
  /** Aborted when this hook's time is up (its own timeoutMs or the overall deadline). */
  signal: AbortSignal
}

export type ShutdownHook = (reason: ShutdownReason, context: HookContext) => unknown

export interface HookOptions {
  /** Shown in logs. @default the function's name, or `hook#N` */
  name?: string
  /**
   * Hooks run one after another in ascending priority (0 before 10); equal priorities in registration order.
   * @default 0
   */
  priority?: number
  /** This hook's own bound; the overall deadline (graceMs) still applies. @default no bound of its own */
  timeoutMs?: number
}

export interface HookEntry {
  hook: ShutdownHook
  name: string
  priority: number
  timeoutMs: number | undefined
  seq: number
}

export function sortHooks(hooks: Iterable<HookEntry>): HookEntry[] {
  return [...hooks].sort((a, b) => a.priority - b.priority || a.seq - b.seq)
}

/**
 * Runs hooks in order, each bounded by its own timeout and all by `deadline`. A hook that throws or times out is
 * logged by name and the next one still runs; a hook that times out is left running (it cannot be cancelled, only
 * told through its signal).
 */
export async function runHooks(hooks: readonly HookEntry[], reason: ShutdownReason, deadline: AbortSignal, logger: Logger): Promise<void> {
  for (const entry of hooks) {
    if (deadline.aborted) {
      logger.warn(`hook skipped name=${entry.name} cause=deadline`)
      continue
    }
    const started = nowMs()
    const outcome = await runOne(entry, reason, deadline)
    const ms = Math.round(nowMs() - started)
    if (outcome.ok) logger.info(`hook done name=${entry.name} ms=${ms}`)
    else logger.error(`hook ${outcome.error.code === 'SCFG_ERR_HOOK_TIMEOUT' ? 'timed out' : 'failed'} name=${entry.name} ms=${ms} error=${JSON.stringify(String((outcome.error.cause as Error | undefined)?.message ?? outcome.error.message))}`)
  }
}

type Outcome = { ok: true } | { ok: false; error: ScfGracefulError }

function runOne(entry: HookEntry, reason: ShutdownReason, deadline: AbortSignal): Promise<Outcome> {
  const local = new AbortController()
  return new Promise<Outcome>((resolve) => {
    let timer: NodeJS.Timeout | undefined
    const finish = (outcome: Outcome) => {
      if (timer) clearTimeout(timer)
      deadline.removeEventListener('abort', onDeadline)
      resolve(outcome)
    }
    const timedOut = (what: string) => {
      const error = new ScfGracefulError('SCFG_ERR_HOOK_TIMEOUT', `hook "${entry.name}" did not finish within ${what}`)
      local.abort(error)
      finish({ ok: false, error })
    }
    const onDeadline = () => timedOut('the shutdown deadline')
    // arm the bounds before calling user code: a hook may block the event loop for a while
    deadline.addEventListener('abort', onDeadline, { once: true })
    if (entry.timeoutMs !== undefined) {
      timer = setTimeout(() => timedOut(`its timeoutMs (${entry.timeoutMs} ms)`), entry.timeoutMs)
      timer.unref()
    }
    let result: unknown
    try {
      result = entry.hook(reason, { signal: local.signal })
    } catch (cause) {
      finish({ ok: false, error: new ScfGracefulError('SCFG_ERR_HOOK_FAILED', `hook "${entry.name}" threw`, { cause }) })
      return
    }
    Promise.resolve(result).then(
      () => finish({ ok: true }),
      (cause: unknown) => finish({ ok: false, error: new ScfGracefulError('SCFG_ERR_HOOK_FAILED', `hook "${entry.name}" rejected`, { cause }) }),
    )
  })
}
