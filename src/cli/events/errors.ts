/**
 * The errors of the Tencent Cloud API (or the emulator) as the `events` commands see them, and how they map onto the
 * CLI's one exit-code table (../exit-codes.ts): scripts branch on those codes.
 */

import { ScfGracefulError } from '../../errors.js'
import { exitCodeForError, exitCodes, UsageError, type ExitCode } from '../exit-codes.js'

export { exitCodes, UsageError, type ExitCode }

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
  const e = (err ?? {}) as { code?: unknown; apiCode?: unknown; message?: unknown; requestId?: unknown }
  const message = typeof e.message === 'string' && e.message ? e.message : String(err)
  const requestId = typeof e.requestId === 'string' ? e.requestId : undefined
  // the emulator's own ApiError (in-process calls): Tencent Cloud's code is its apiCode, its `code` is SCFG_ERR_EMULATOR_API
  if (typeof e.apiCode === 'string' && e.apiCode) return new ApiCallError(action, e.apiCode, message, requestId, { cause: err })
  if (typeof e.code === 'string' && /^[A-Z][A-Za-z]+(\.[A-Za-z0-9]+)*$/.test(e.code)) return new ApiCallError(action, e.code, message, requestId, { cause: err })
  // the SDK reports transport failures without a code: "request to http://... failed, reason: connect ECONNREFUSED ..."
  return new ApiCallError(action, NETWORK_ERROR, message, requestId, { cause: err })
}

/** The exit code for an API error code. */
export function exitCodeForApi(apiCode: string): ExitCode {
  if (apiCode === NETWORK_ERROR) return exitCodes.unavailable
  if (apiCode === 'RequestLimitExceeded' || apiCode.startsWith('RequestLimitExceeded.')) return exitCodes.unavailable
  if (apiCode.startsWith('AuthFailure') || apiCode === 'UnauthorizedOperation' || apiCode.startsWith('UnauthorizedOperation.')) return exitCodes.auth
  if (apiCode.startsWith('ResourceNotFound')) return exitCodes.notFound
  if (/^(InvalidParameter|InvalidParameterValue|MissingParameter|UnknownParameter|InvalidAction|UnsupportedOperation)(\.|$)/.test(apiCode)) return exitCodes.usage
  // FailedOperation.*, ResourceUnavailable.*, LimitExceeded.*, InternalError, anything new: the operation failed
  return exitCodes.failed
}

/** The exit code for anything a command threw. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof ApiCallError) return exitCodeForApi(err.apiCode)
  return exitCodeForError(err)
}
