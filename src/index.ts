// The core entry: cheap to import (SCF cold starts pay for it). Nothing here may import a store, Express or the
// emulator; persistence is loaded lazily when the `persist` option is used.
export { graceful, type GracefulOptions, type ScfHandler } from './handler.js'
export { runJob, jobExitCodes, type RunJobOptions } from './job.js'
export { onShutdown, shutdown, uninstall, shutdownState, type HookOptions, type ShutdownHook, type HookContext, type ShutdownState } from './shutdown/index.js'
export { ScfGracefulError, ShutdownError, errorCodes, type ErrorCode, type ShutdownReason } from './errors.js'
export type { Invocation, Handler, RuntimeOptions } from './runtime/function-runtime.js'
export { normalizeContext, contextFromHeaders, contextFromEnv, parseEnviron, type ScfContext, type ScfRuntimeContext, type ScfCredentials } from './scf/context.js'
export { scfStatus, type AsyncEventStatus } from './scf/status.js'
export type { Logger } from './log.js'
export type { SnapshotStore, StoreBody, StoreOperationOptions, StorePutOptions } from './persistence/store.js'
export type { PersistOptions } from './persistence/runtime.js'
export type * from './scf/events.js'
