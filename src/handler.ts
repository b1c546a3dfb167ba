import { normalizeContext, type ScfContext } from './scf/context.js'
import { createFunctionRuntime, type Handler, type RuntimeOptions } from './runtime/function-runtime.js'

/** Options of `graceful()`. */
export interface GracefulOptions extends RuntimeOptions {}

/** The function SCF calls: `exports.main_handler = graceful(...)`. */
export type ScfHandler<TEvent, TResult> = (event: TEvent, context?: unknown) => Promise<TResult>

/**
 * Wraps a code-deployment handler so it can stop well. The handler gets a third argument, `inv`, whose `signal`
 * aborts on SIGTERM (TerminateAsyncEvent with GraceShutdown), `timeoutMarginMs` before the invocation's timeout,
 * and on `shutdown()`. If the handler settles in time its result or error is the invocation's; if not, the
 * invocation settles with a ShutdownError (code SCFG_ERR_SHUTDOWN_DEADLINE) at the deadline. The process is never
 * exited by default: SCF's runtime owns it. Installing the signal listeners happens here, once per process.
 *
 * @example
 * import { graceful } from 'scf-graceful'
 *
 * export const main_handler = graceful(async (event, context, inv) => {
 *   for (const item of event.items) {
 *     if (inv.shouldStop) return { stopped: true }
 *     await work(item, { signal: inv.signal })
 *   }
 *   return { done: true }
 * })
 */
export function graceful<TEvent = any, TResult = unknown>(handler: Handler<TEvent, TResult>, options: GracefulOptions = {}): ScfHandler<TEvent, Awaited<TResult>> {
  const runtime = createFunctionRuntime<TEvent, Awaited<TResult>>(handler as Handler<TEvent, Awaited<TResult>>, options, { name: 'graceful()', exitAfterShutdown: false, awaitCycle: true })
  // two parameters on purpose: SCF's Node.js runtime treats a third one as the legacy callback
  return function scfGracefulHandler(event: TEvent, context?: unknown): Promise<Awaited<TResult>> {
    return runtime.invoke(event, normalizeContext(context) as ScfContext)
  }
}
