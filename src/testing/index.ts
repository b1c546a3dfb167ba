// 'scf-graceful/testing': run a function in a real child process, the way SCF would, and really signal it.
export { startFunction } from '../local/instance.js'
export { InvocationError } from '../local/invocation-error.js'
export type { FunctionInstance, StartFunctionOptions, InvokeOptions, LogLine, ExitInfo, FunctionMode } from '../local/types.js'
