/**
 * Ctrl-C and SIGTERM for the CLI's own commands, through the library's shutdown core (src/shutdown): the command is
 * one tracked unit of work, so a signal aborts its AbortSignal, a second Ctrl-C exits at once (130), and the
 * process-level policy is the one every deployment shape uses. The command winds down on its signal (a snapshot
 * stops at the next chunk, the emulator closes its instances); this waits for that, bounded.
 */
import type { ShutdownReason } from '../errors.js'
import { abortedPromise, joinShutdown, type ShutdownControl } from '../shutdown/controller.js'
import { exitCodes, type ExitCode } from './exit-codes.js'

/** How long a command may take to wind down after its signal before the CLI gives up on it. */
const DEFAULT_WIND_DOWN_MS = 10_000

export interface InterruptibleOptions {
  /**
   * Bound for the command to settle after the signal. 0 for commands with nothing to clean up (API calls): the
   * CLI stops at once.
   * @default 10000
   */
  windDownMs?: number
}

let control: ShutdownControl | undefined

/** The shutdown core as a CLI uses it: its own lines on stderr, no info noise, and a cycle long enough to wind down. */
function controller(): ShutdownControl {
  control ??= joinShutdown(
    {
      graceMs: DEFAULT_WIND_DOWN_MS + 5000,
      logger: { info() {}, warn: (m) => void process.stderr.write(`warning: ${m}\n`), error: (m) => void process.stderr.write(`error: ${m}\n`) },
    },
    'the scf-graceful CLI',
  )
  return control
}

/** The exit code for a command stopped by `reason`. */
export function exitCodeForSignal(reason: ShutdownReason | undefined): ExitCode {
  return reason === 'SIGTERM' ? exitCodes.terminated : exitCodes.interrupted
}

/**
 * Runs `command` as a tracked unit of work of the shutdown core. Resolves with its exit code, or with 130/143 when a
 * signal stopped it (whatever the command returned then: its work was cut short).
 *
 * @example
 * return interruptible('snapshot', (signal) => snapshotter.snapshot({ signal }).then(() => 0))
 */
export async function interruptible(name: string, command: (signal: AbortSignal) => Promise<number>, options: InterruptibleOptions = {}): Promise<number> {
  const c = controller()
  const tracked = c.track(`scf-graceful ${name}`)
  const signal = tracked.signal
  try {
    const work = command(signal)
    const windDownMs = options.windDownMs ?? DEFAULT_WIND_DOWN_MS
    const cutOff = abortedPromise(signal).then(
      () =>
        new Promise<'cut-off'>((resolve) => {
          const timer = setTimeout(() => resolve('cut-off'), windDownMs)
          // the timer is what ends a command that ignores its signal: it must keep the process alive
          void work.finally(() => clearTimeout(timer)).catch(() => {})
        }),
    )
    const settled = await Promise.race([work, cutOff])
    if (tracked.isAborted) return exitCodeForSignal(tracked.abortReason?.reason)
    return settled as number
  } catch (err) {
    if (!tracked.isAborted) throw err
    // the command failed because it was stopped: say what stopped it, and what broke if that is something else
    const e = err as { message?: string; code?: string }
    const reason = tracked.abortReason?.reason ?? 'a signal'
    const detail = err === tracked.abortReason || e?.code === 'SCFG_ERR_SHUTDOWN_ABORTED' ? '' : `: ${e?.message ?? String(err)}`
    process.stderr.write(`error: ${name} stopped by ${reason}${detail}${e?.code ? ` (${e.code})` : ''}\n`)
    return exitCodeForSignal(tracked.abortReason?.reason)
  } finally {
    tracked.end()
  }
}

/** True while the CLI is being stopped by a signal (a command's last line can say so). */
export function isStopping(): boolean {
  return control !== undefined && control.state !== 'running'
}
