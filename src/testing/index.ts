// 'scf-graceful/testing': run a function in a real child process, the way SCF would, and really signal it.
export { startFunction } from '../harness/start-function.js'
export { InvocationError } from '../harness/invocation-error.js'
export type { FunctionInstance, StartFunctionOptions, InvokeOptions, LogLine, ExitInfo, FunctionMode } from '../harness/types.js'
