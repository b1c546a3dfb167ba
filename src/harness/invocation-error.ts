import { ScfGracefulError, type ErrorCode } from '../errors.js'

/**
 * Why an invocation of a local function instance failed, with the SCF status code the platform would report:
 * 430 the handler threw, 433 it ran past its timeout, 439 the process exited while running, 499 terminated by force.
 *
 * @example
 * try { await fn.invoke(event) } catch (err) { if (err instanceof InvocationError) console.log(err.statusCode) }
 */
export class InvocationError extends ScfGracefulError {
  static override readonly brand: string = 'InvocationError'
  readonly statusCode: number
  /** The handler's own error message (430), or what happened to the instance. */
  readonly errorMessage: string
  /** The handler error's name/type (430 only). */
  readonly errorType: string | undefined
  readonly requestId: string

  constructor(code: ErrorCode, statusCode: number, requestId: string, errorMessage: string, options: { errorType?: string; stack?: string; cause?: unknown } = {}) {
    super(code, `${errorMessage} (status ${statusCode}, request ${requestId})`, { cause: options.cause, details: { statusCode, requestId } })
    this.name = 'InvocationError'
    this.statusCode = statusCode
    this.errorMessage = errorMessage
    this.errorType = options.errorType
    this.requestId = requestId
    if (options.stack) this.stack = options.stack
  }
}
