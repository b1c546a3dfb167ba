// AbortSignal as Node 17.3+ has it, on Node 16.13 (SCF's Nodejs16.13 runtime): `signal.reason` (17.2),
// `abort(reason)` keeping its reason, `AbortSignal.abort(reason)`, `signal.throwIfAborted()` (17.3). The library's
// documented API hands code an `inv.signal` whose `.reason` is a ShutdownError: without this, on 16.13 it is undefined
// and `inv.signal.reason.reason` throws. Only what is missing is added, so Node 17.3+ is left exactly as it is; the
// shim is installed once per process (the ESM and CJS builds share the flag).

const kInstalled = Symbol.for('scf-graceful.compat.abort.v1')

type DOMExceptionCtor = new (message?: string, name?: string) => Error

/** Node 16 has DOMException, only not as a global (that came in 17): take it from an API that throws one. */
function domException(): DOMExceptionCtor | undefined {
  const g = globalThis as { DOMException?: DOMExceptionCtor; atob?: (s: string) => string }
  if (g.DOMException) return g.DOMException
  try {
    g.atob?.('~')
  } catch (err) {
    return (err as Error).constructor as DOMExceptionCtor
  }
  return undefined
}

/** The reason Node 17.2+ gives a signal aborted without one: a DOMException named AbortError. */
export function abortError(): Error {
  const Ctor = domException()
  if (Ctor) return new Ctor('This operation was aborted', 'AbortError')
  return Object.assign(new Error('This operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' })
}

// Node 17.3+ has all of it. Checked by version first because the first read of the AbortSignal/AbortController
// globals loads Node's abort_controller internals (≈ 0.35 ms on Node 20): a cold start that never makes a signal
// should not pay that for a shim it does not need (BENCHMARKS.md, core).
const [nodeMajor = 0, nodeMinor = 0] = process.versions.node.split('.').map(Number)
const hasModernAbort = nodeMajor > 17 || (nodeMajor === 17 && nodeMinor >= 3)

/** True when this Node's AbortSignal lacks `reason` (Node < 17.2) and the shim is (or would be) needed. */
export const needsAbortShim = !hasModernAbort && typeof AbortSignal !== 'undefined' && !('reason' in AbortSignal.prototype)

/** Adds what Node < 17.3 lacks of AbortSignal; a no-op on newer Node and on every call after the first. */
export function installAbortCompat(): void {
  const g = globalThis as Record<symbol, boolean | undefined>
  if (g[kInstalled] || hasModernAbort || typeof AbortController === 'undefined') return
  g[kInstalled] = true
  const signalProto = AbortSignal.prototype as AbortSignal & { throwIfAborted?: () => void }
  if (!('reason' in signalProto)) {
    const setReason = (signal: AbortSignal, reason: unknown) => {
      if (!signal.aborted) Object.defineProperty(signal, 'reason', { value: reason === undefined ? abortError() : reason, configurable: true })
    }
    // a not-yet-aborted signal reads undefined, as on newer Node; abort() gives the instance its own value first,
    // so 'abort' listeners already see it
    Object.defineProperty(signalProto, 'reason', { get: () => undefined, configurable: true, enumerable: true })
    const abort = AbortController.prototype.abort
    Object.defineProperty(AbortController.prototype, 'abort', {
      value: function abortWithReason(this: AbortController, reason?: unknown) {
        setReason(this.signal, reason)
        abort.call(this)
      },
      configurable: true,
      writable: true,
    })
    const staticAbort = (AbortSignal as { abort?: () => AbortSignal }).abort
    if (typeof staticAbort === 'function') {
      Object.defineProperty(AbortSignal, 'abort', {
        value: function abortedWithReason(reason?: unknown) {
          const ac = new AbortController()
          ac.abort(reason)
          return ac.signal
        },
        configurable: true,
        writable: true,
      })
    }
  }
  if (typeof signalProto.throwIfAborted !== 'function') {
    Object.defineProperty(signalProto, 'throwIfAborted', {
      value: function throwIfAborted(this: AbortSignal) {
        if (this.aborted) throw (this as { reason?: unknown }).reason ?? abortError()
      },
      configurable: true,
      writable: true,
    })
  }
}

/**
 * An AbortSignal that aborts after `ms` with a TimeoutError, like `AbortSignal.timeout(ms)` (Node 16.14+), on an
 * unref'd timer.
 */
export function timeoutSignal(ms: number, message = `deadline of ${ms} ms passed`): AbortSignal {
  installAbortCompat()
  return deadlineSignal(ms, () => Object.assign(new Error(message), { name: 'TimeoutError' })).signal
}

/**
 * An AbortSignal that aborts with `reason()` after `ms` unless `clear()` comes first, on an unref'd timer (it keeps no
 * process alive; unlike AbortSignal.timeout it also works when ms is 0).
 */
export function deadlineSignal(ms: number, reason: () => Error = () => new Error(`deadline of ${ms} ms passed`)): { signal: AbortSignal; clear(): void } {
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(reason()), ms)
  timer.unref()
  return { signal: ac.signal, clear: () => clearTimeout(timer) }
}
