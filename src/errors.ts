/**
 * Every error this package throws, with its stable `code`. The README's error table is checked against
 * `errorCodes` by a test, so adding a code here means documenting it there.
 */

/** Why a shutdown (or an invocation's abort) happened. */
export type ShutdownReason = 'SIGTERM' | 'SIGINT' | 'timeout' | 'client-closed' | 'manual'

/** Stable error codes and what each means (also the README table). */
export const errorCodes = {
  // options
  SCFG_ERR_INVALID_OPTION: 'An option has a wrong type or value; the message names the option and the value that arrived.',
  SCFG_ERR_MISSING_DEPENDENCY: 'An optional peer dependency (express, @aws-sdk/client-s3, ioredis, tencentcloud-sdk-nodejs-scf) is needed for this feature and is not installed.',
  // shutdown
  SCFG_ERR_SHUTDOWN_ABORTED: "The invocation's signal was aborted: the process is stopping (SIGTERM, SIGINT, shutdown()), the invocation neared its timeout, or its client went away. `.reason` says which.",
  SCFG_ERR_SHUTDOWN_DEADLINE: 'The handler did not settle before the shutdown deadline (graceMs, or its own timeout); the wrapper settled the invocation with this error.',
  SCFG_ERR_HOOK_TIMEOUT: 'An onShutdown hook did not finish within its own timeoutMs or the overall deadline (logged; the other hooks still run).',
  SCFG_ERR_HOOK_FAILED: 'An onShutdown hook threw or rejected (logged with its name; the other hooks still run).',
  // scf context and events
  SCFG_ERR_EVENT_MALFORMED: 'The event could not be parsed (malformed JSON body or SCF_CUSTOM_CONTAINER_EVENT).',
  SCFG_ERR_EVENT_TOO_LARGE: 'The event is over the size limit (6 MB synchronous, 128 KB asynchronous by default).',
  SCFG_ERR_RESPONSE_TOO_LARGE: "The handler's result is over 6 MB (SCF's status 407).",
  SCFG_ERR_SERVER_STOPPING: 'The image function is draining after SIGTERM (or close()); new /event-invoke requests get HTTP 503 with `Connection: close`.',
  SCFG_ERR_METHOD_NOT_ALLOWED: '/event-invoke was called with a method other than POST (HTTP 405).',
  SCFG_ERR_HANDLER_NOT_FOUND: 'The function entry does not export the named handler, or it is not a function.',
  // persistence
  SCFG_ERR_PERSIST_NOT_CONFIGURED: 'inv.checkpoint() was called but no `persist` option was given.',
  SCFG_ERR_SNAPSHOT_NOT_FOUND: 'There is no snapshot under this key (restore found nothing to restore).',
  SCFG_ERR_SNAPSHOT_ABORTED: 'A snapshot or restore was aborted through its AbortSignal (the deadline); the previous snapshot is intact.',
  SCFG_ERR_SNAPSHOT_SOURCE_CHANGED: 'A file kept changing (size or mtime) while it was being read, 3 attempts in a row; the snapshot was not committed. (A file that vanishes is left out with a warning instead.)',
  SCFG_ERR_MANIFEST_INVALID: 'A snapshot manifest is malformed or hostile (absolute path, "..", NUL, a symlink leading out of root, an absurd size); nothing was written.',
  SCFG_ERR_CHUNK_CORRUPT: "A chunk's bytes do not match its SHA-256; the file was not written.",
  SCFG_ERR_CHUNK_MISSING: 'A chunk that a manifest references is missing from the store.',
  SCFG_ERR_RESTORE_FAILED: 'The start-up restore (persist.restoreOnStart) did not complete after its retries, or was aborted: the invocation fails and its handler does not run, no checkpoint or flush replaces the snapshot in the store, and the next invocation tries again (`cause` holds the last error). `persist.onRestoreError: "start-fresh"` chooses to start over instead.',
  SCFG_ERR_RESTORE_WRITE: 'Restore could not write a file under root (for example ENOSPC); files already in place were left as they were.',
  // stores
  SCFG_ERR_STORE_KEY_INVALID: 'A store key is empty, absolute, contains "..", NUL or characters the store cannot hold.',
  SCFG_ERR_STORE_UNAVAILABLE: 'The store could not be reached or failed after its bounded retries (connection refused, server gone, 5xx).',
  SCFG_ERR_STORE_AUTH: 'The store rejected the credentials (wrong key, bad signature, access denied).',
  SCFG_ERR_STORE_NOT_FOUND: 'The object or bucket does not exist in the store.',
  // local emulator / harness
  SCFG_ERR_INSTANCE_EXITED: 'The function instance (child process) exited while an invocation was running (SCF status 439).',
  SCFG_ERR_INSTANCE_TIMEOUT: 'The invocation ran past its timeout; the instance was killed and recycled (SCF status 433).',
  SCFG_ERR_INSTANCE_TERMINATED: 'The invocation was terminated by force; the instance was killed and its tmp dir wiped (SCF status 499).',
  SCFG_ERR_INSTANCE_START: 'The function instance could not start (entry not found, module threw while loading, image server never listened).',
  SCFG_ERR_HANDLER_FAILED: 'The function handler threw or rejected (SCF status 430); the original error is in `cause` / `errorMessage`.',
  SCFG_ERR_EMULATOR_DATA_DIR_LOCKED: 'Another live emulator holds this data dir (its pid is in the message and in `<data dir>/emulator.lock`); stop it or give this one its own --data-dir. A lock left by a process that is gone is taken over.',
  SCFG_ERR_EMULATOR_BUSY: "No function instance became free within the emulator's queueTimeoutMs (every instance of `concurrency` busy); the event ends FAILED with SCF status 432 (ResourceLimitReached).",
  SCFG_ERR_EMULATOR_DATA_CORRUPT: "A file in the emulator's data dir is unusable: a journal shorter than its index says (truncated or changed behind the emulator's back), or a console-token file that can be neither read nor created; the message names the file.",
  SCFG_ERR_EMULATOR_CLOSING: 'The emulator is closing: an event still waiting for an instance is not started, and no new instance starts.',
  SCFG_ERR_EVENT_CANCELLED: 'An async event was terminated (TerminateAsyncEvent) while it still waited for a free instance: it never started and ends ABORTED.',
  SCFG_ERR_REQUEST_TOO_LARGE: "A request to the emulator's API or console has a body over its limit (the API answers RequestSizeLimitExceeded, the console HTTP 413).",
  SCFG_ERR_EMULATOR_API: "The local emulator's API refused a request as Tencent Cloud's would (a bad parameter, an unknown function or event, a rate limit, a bad signature): `apiCode` holds Tencent Cloud's own code (`InvalidParameterValue.Limit`, `ResourceNotFound.Function`, ...), which the API answers as `Response.Error.Code`; `emulator.call()` rejects with this error.",
  SCFG_ERR_ENTRY_ESM: "The code function's entry is an ES module (`.mjs`, or `.js` under `\"type\": \"module\"`): SCF require()s the entry, so it fails there too. Keep a CommonJS index.js that import()s the module.",
  // runtimes
  SCFG_ERR_RUNTIME_NOT_INSTALLED: 'The runtime (Nodejs16.13, Nodejs18.15) is not in the runtimes cache and installing was not allowed; run `scf-graceful runtimes install`.',
  SCFG_ERR_RUNTIME_DOWNLOAD: "A runtime could not be downloaded: the npm registry is unreachable (offline), has no such package, or the download stalled; nothing was installed.",
  SCFG_ERR_RUNTIME_INTEGRITY: "A downloaded runtime does not match the registry's `dist.integrity`; nothing was installed.",
  SCFG_ERR_RUNTIME_PLATFORM: "SCF's runtimes are linux-x64 binaries; on another platform only the 'host' runtime runs.",
  // cli
  SCFG_ERR_CLI_USAGE: 'The command line is wrong: an unknown command or flag, or a missing or malformed value.',
  SCFG_ERR_API_RESPONSE: 'The Tencent Cloud API (or the local emulator) answered with an error; Code, Message and RequestId are attached.',
} as const

export type ErrorCode = keyof typeof errorCodes

// every error of the family carries the brands of its class chain under a process-wide key, so `instanceof` works
// across duplicate copies of the package (ESM and CJS builds loaded in one process) and per class: a ShutdownError
// from the CJS copy is an instanceof the ESM copy's ShutdownError, never of its PoolBusyError
const kBrands = Symbol.for('scf-graceful.error-classes.v1')
// the brand of copies made before per-class brands (one for the whole family): still accepted by the base class
const kBrand = Symbol.for('scf-graceful.error.v1')

type ErrorClass = { readonly brand?: string; readonly name: string }

/** A class's brand: its own static `brand` (set on every exported class, so minified names cannot change it), else its name. */
function brandOf(cls: ErrorClass): string {
  return Object.prototype.hasOwnProperty.call(cls, 'brand') && typeof cls.brand === 'string' ? cls.brand : cls.name
}

export interface ScfGracefulErrorOptions {
  cause?: unknown
  /** Extra structured details (never secrets). */
  details?: Record<string, unknown>
}

/**
 * The base of every error this package throws. `instanceof` works across duplicate copies of the package
 * (ESM and CJS builds loaded in one process) through per-class `Symbol.for` brands.
 *
 * @example
 * try { await snapshotter.restore() } catch (err) {
 *   if (err instanceof ScfGracefulError && err.code === 'SCFG_ERR_SNAPSHOT_NOT_FOUND') start fresh
 * }
 */
export class ScfGracefulError extends Error {
  /** The class's brand for cross-copy `instanceof`; every subclass sets its own. */
  static readonly brand: string = 'ScfGracefulError'
  readonly code: ErrorCode
  readonly details: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message: string, options: ScfGracefulErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ScfGracefulError'
    this.code = code
    this.details = options.details
    const brands: string[] = []
    for (let cls = new.target as unknown as ErrorClass | null; cls && cls !== (Error as unknown as ErrorClass); cls = Object.getPrototypeOf(cls) as ErrorClass | null) brands.push(brandOf(cls))
    Object.defineProperty(this, kBrands, { value: Object.freeze(brands) })
    Object.defineProperty(this, kBrand, { value: true })
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false
    const brands = (value as Record<symbol, unknown>)[kBrands]
    if (Array.isArray(brands)) return brands.includes(brandOf(this))
    // an error from an older copy of the package: one brand for the family, classes by prototype only
    if (this === ScfGracefulError) return (value as Record<symbol, unknown>)[kBrand] === true
    return Function.prototype[Symbol.hasInstance].call(this, value)
  }
}

/**
 * The reason an invocation's `signal` is aborted with, and the error a handler that outlived the deadline settles with.
 *
 * @example
 * if (inv.signal.reason instanceof ShutdownError && inv.signal.reason.reason === 'timeout') saveProgress()
 */
export class ShutdownError extends ScfGracefulError {
  static override readonly brand: string = 'ShutdownError'
  readonly reason: ShutdownReason

  constructor(reason: ShutdownReason, options: ScfGracefulErrorOptions & { code?: 'SCFG_ERR_SHUTDOWN_ABORTED' | 'SCFG_ERR_SHUTDOWN_DEADLINE'; message?: string } = {}) {
    const code = options.code ?? 'SCFG_ERR_SHUTDOWN_ABORTED'
    super(code, options.message ?? describeShutdown(reason, code), options)
    this.name = 'ShutdownError'
    this.reason = reason
  }
}

function describeShutdown(reason: ShutdownReason, code: ErrorCode): string {
  const why =
    reason === 'timeout' ? 'the invocation is about to reach its timeout'
    : reason === 'client-closed' ? 'the client closed the connection'
    : reason === 'manual' ? 'shutdown() was called'
    : `the process received ${reason}`
  return code === 'SCFG_ERR_SHUTDOWN_DEADLINE' ? `handler did not settle before the shutdown deadline (${why})` : `invocation stopped: ${why}`
}

/** Throws SCFG_ERR_INVALID_OPTION naming the option and the value that arrived. */
export function invalidOption(name: string, value: unknown, expected: string): ScfGracefulError {
  return new ScfGracefulError('SCFG_ERR_INVALID_OPTION', `option "${name}" must be ${expected}, got ${describeValue(value)}`, { details: { option: name } })
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'an object'
  return String(value)
}

/** Lazily imports an optional peer dependency, with a clear error when it is missing. */
export async function importPeer<T>(name: string, feature: string): Promise<T> {
  try {
    return (await import(name)) as T
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND' || (cause as NodeJS.ErrnoException)?.code === 'MODULE_NOT_FOUND') {
      throw new ScfGracefulError('SCFG_ERR_MISSING_DEPENDENCY', `${feature} needs the package "${name}": npm install ${name}`, { cause })
    }
    throw cause
  }
}
