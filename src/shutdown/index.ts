import type { ShutdownReason } from '../errors.js'
import { getController, type ShutdownState } from './controller.js'
import type { HookOptions, ShutdownHook } from './hooks.js'

/**
 * Registers a hook for the shutdown cycle. Hooks run once per cycle, one after another in ascending `priority`,
 * each bounded by its own `timeoutMs` and all by `graceMs`; a hook that throws or times out is logged by name and
 * the rest still run. Registering the first hook installs the SIGTERM/SIGINT listeners.
 *
 * @example
 * const off = onShutdown(async (reason) => { await db.close() }, { name: 'db', priority: 10, timeoutMs: 2000 })
 * off() // unregister
 */
export function onShutdown(hook: ShutdownHook, options: HookOptions = {}): () => void {
  const controller = getController()
  const off = controller.addHook(hook, options)
  controller.install()
  return off
}

/**
 * Runs the shutdown cycle by hand (tests, local development): in-flight invocations abort with reason 'manual'
 * (or the one given), hooks and the flush run. Resolves when the cycle finished.
 *
 * @example
 * await shutdown() // as if SIGTERM had arrived
 */
export function shutdown(reason: ShutdownReason = 'manual'): Promise<void> {
  return getController().shutdown(reason)
}

/**
 * Removes the SIGTERM/SIGINT listeners this package added: Node's default behaviour (SIGTERM kills the process)
 * comes back. Hooks stay registered; the next graceful()/onShutdown() installs the listeners again.
 *
 * @example
 * uninstall()
 */
export function uninstall(): void {
  getController().uninstall()
}

/**
 * The controller's state: 'running', 'stopping' (a cycle is under way) or 'stopped' (the cycle ended; the process
 * is about to exit, or re-arms to 'running').
 *
 * @example
 * if (shutdownState() === 'stopping') return res.status(503).end()
 */
export function shutdownState(): ShutdownState {
  return getController().state
}

export type { HookOptions, ShutdownHook, HookContext } from './hooks.js'
export type { ShutdownState } from './controller.js'
