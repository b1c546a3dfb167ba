/**
 * The exit codes of every `scf-graceful` command: one table, so a script branches the same way after `events`,
 * `snapshot`, `restore` or `local`. Every failure is non-zero. `run-job` exits with its job's own codes
 * (`jobExitCodes`: 0, 1, 2 usage, 65, 124, 130, 143), which fit this table.
 */
import { ScfGracefulError } from '../errors.js'

export const exitCodes = {
  /** everything asked for happened */
  ok: 0,
  /**
   * the operation failed: an API or store error not listed below, an event that ended FAILED/ABORTED (or is still
   * RUNNING) when the command was asked to see it end, a failed `--sync` invoke, an invalid or corrupt snapshot
   */
  failed: 1,
  /** the command line is wrong (unknown command or flag, bad value, missing credentials), or the API rejected a parameter */
  usage: 2,
  /** what the command names does not exist: function, namespace, version, event, or a snapshot to restore */
  notFound: 3,
  /** the API or store could not be reached, or kept answering RequestLimitExceeded: trying again later may work */
  unavailable: 4,
  /** credentials were rejected: wrong or expired key, bad signature, access denied, wrong console token */
  auth: 5,
  /** stopped by Ctrl-C (SIGINT, 128 + 2); the work was cut short cleanly (a snapshot never half-committed) */
  interrupted: 130,
  /** stopped by SIGTERM (128 + 15) */
  terminated: 143,
} as const

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes]

/** The table as one help line (every command's --help ends with it). */
export const exitCodesHelp =
  'exit codes: 0 ok · 1 failed · 2 usage · 3 not found · 4 unreachable or rate-limited · 5 auth · 130 Ctrl-C · 143 SIGTERM'

/** A wrong command line: printed with a pointer to the command's --help, exit 2. */
export class UsageError extends ScfGracefulError {
  constructor(message: string) {
    super('SCFG_ERR_CLI_USAGE', message)
    this.name = 'UsageError'
  }
}

/** The exit code for an error of the package (by its code); API errors are mapped in events/errors.ts. */
export function exitCodeForError(err: unknown): ExitCode {
  switch ((err as { code?: unknown })?.code) {
    case 'SCFG_ERR_CLI_USAGE':
    case 'SCFG_ERR_INVALID_OPTION':
    case 'SCFG_ERR_STORE_KEY_INVALID':
      return exitCodes.usage
    case 'SCFG_ERR_SNAPSHOT_NOT_FOUND':
      return exitCodes.notFound
    case 'SCFG_ERR_STORE_UNAVAILABLE':
      return exitCodes.unavailable
    case 'SCFG_ERR_STORE_AUTH':
      return exitCodes.auth
    case 'SCFG_ERR_SNAPSHOT_ABORTED':
    case 'SCFG_ERR_SHUTDOWN_ABORTED':
      return interruptedCode(err)
    default:
      // SCFG_ERR_STORE_NOT_FOUND (a missing bucket) is a failure, not "nothing to restore": a script must not start fresh
      return exitCodes.failed
  }
}

/** 143 when SIGTERM stopped the work (the reason travels as the error or its cause), else 130. */
export function interruptedCode(err: unknown): ExitCode {
  for (let e = err as { reason?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.reason === 'SIGTERM') return exitCodes.terminated
    if (e.reason === 'SIGINT') return exitCodes.interrupted
  }
  return exitCodes.interrupted
}
