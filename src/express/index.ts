// 'scf-graceful/express': image deployments. Express 5 is an optional peer dependency; only this entry imports it.
export { eventInvokeRouter, type EventInvokeOptions } from './router.js'
export { serveEventFunction, type ServeEventFunctionOptions, type EventFunctionServer } from './serve.js'
export type { Handler, Invocation, RuntimeOptions } from '../runtime/function-runtime.js'
export type { ScfContext } from '../scf/context.js'
