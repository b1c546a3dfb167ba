/**
 * What `scf-graceful events` exits with, and the errors that carry it. The codes are part of the CLI's contract
 * (README section "cli"): scripts branch on them.
 */

import { ScfGracefulError } from '../../errors.js'

/** Exit codes of `scf-graceful events`. */
export const exitCodes = {
  /** everything asked for happened */
  OK: 0,
  /** anything not covered below (an unexpected answer, a bug) */
  OTHER: 1,
  /** the command line is wrong, or the API rejected a parameter (InvalidParameter*, MissingParameter, UnknownParameter) */
  USAGE: 2,
  /** the function, namespace, version or event does not exist (ResourceNotFound.*) */
  NOT_FOUND: 3,
  /** the operation failed or the event did not end as asked (FailedOperation.*, still RUNNING, FAILED/ABORTED with --wait) */
  FAILED: 4,
  /** credentials missing on the server side, wrong or expired (AuthFailure.*) */
  AUTH: 5,
  /** RequestLimitExceeded even after the retries */
  RATE_LIMITED: 6,
  /** the endpoint could not be reached (connection refused, DNS, timeout) */
  UNREACHABLE: 7,
} as const

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes]

/** A wrong command line: printed with the command's usage, exit 2. */
export class UsageError extends ScfGracefulError {
  constructor(message: string) {
    super('SCFG_ERR_CLI_USAGE', message)
    this.name = 'UsageError'
  }
}

/** An error answer of the Tencent Cloud API (or the emulator), or a failure to reach it. */
export class ApiCallError extends ScfGracefulError {
  /** The API's `Error.Code` (`ResourceNotFound.AsyncEvent`, ...); `NetworkError` when nothing answered. */
  readonly apiCode: string
  readonly requestId: string | undefined
  readonly action: string

  constructor(action: string, apiCode: string, message: string, requestId?: string, options?: { cause?: unknown }) {
    super('SCFG_ERR_API_RESPONSE', message, { cause: options?.cause })
    this.name = 'ApiCallError'
    this.action = action
    this.apiCode = apiCode
    this.requestId = requestId || undefined
  }
}

/** The code `NetworkError` stands for "the endpoint did not answer" (not an API code). */
export const NETWORK_ERROR = 'NetworkError'

/**
 * Normalizes whatever an API call threw (the SDK's TencentCloudSDKHttpException, the emulator's ApiError, a fetch
 * failure) into an ApiCallError.
 */
export function toApiCallError(action: string, err: unknown): ApiCallError {
  if (err instanceof ApiCallError) return err
  const e = (err ?? {}) as { code?: unknown; message?: unknown; requestId?: unknown }
  const message = typeof e.message === 'string' && e.message ? e.message : String(err)
  const requestId = typeof e.requestId === 'string' ? e.requestId : undefined
  if (typeof e.code === 'string' && /^[A-Z][A-Za-z]+(\.[A-Za-z0-9]+)*$/.test(e.code)) return new ApiCallError(action, e.code, message, requestId, { cause: err })
  // the SDK reports transport failures without a code: "request to http://... failed, reason: connect ECONNREFUSED ..."
  return new ApiCallError(action, NETWORK_ERROR, message, requestId, { cause: err })
}

/** The exit code for an API error code. */
export function exitCodeForApi(apiCode: string): ExitCode {
  if (apiCode === NETWORK_ERROR) return exitCodes.UNREACHABLE
  if (apiCode === 'RequestLimitExceeded' || apiCode.startsWith('RequestLimitExceeded.')) return exitCodes.RATE_LIMITED
  if (apiCode.startsWith('AuthFailure') || apiCode === 'UnauthorizedOperation' || apiCode.startsWith('UnauthorizedOperation.')) return exitCodes.AUTH
  if (apiCode.startsWith('ResourceNotFound')) return exitCodes.NOT_FOUND
  if (apiCode.startsWith('FailedOperation') || apiCode.startsWith('ResourceUnavailable') || apiCode.startsWith('LimitExceeded')) return exitCodes.FAILED
  if (/^(InvalidParameter|InvalidParameterValue|MissingParameter|UnknownParameter|InvalidAction|UnsupportedOperation)(\.|$)/.test(apiCode)) return exitCodes.USAGE
  return exitCodes.OTHER
}

/** The exit code for anything a command threw. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof UsageError) return exitCodes.USAGE
  if (err instanceof ApiCallError) return exitCodeForApi(err.apiCode)
  if ((err as { code?: unknown })?.code === 'SCFG_ERR_MISSING_DEPENDENCY') return exitCodes.OTHER
  return exitCodes.OTHER
}
