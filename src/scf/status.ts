/** SCF platform status codes used by this package (see SCF-FACTS.md). */
export const scfStatus = {
  OK: 200,
  CONTAINER_STATE_EXITED: 405,
  REQUEST_TOO_LARGE: 406,
  RESPONSE_TOO_LARGE: 407,
  USER_CODE_EXCEPTION: 430,
  RESOURCE_LIMIT_REACHED: 432,
  TIME_LIMIT_REACHED: 433,
  MEMORY_LIMIT_REACHED: 434,
  USER_PROCESS_EXIT: 439,
  PORT_BINDING_FAILED: 446,
  REQUEST_CANCELED: 499,
  INTERNAL_ERROR: 500,
} as const

/** Async event status strings as ListAsyncEvents / GetAsyncEventStatus return them. */
export type AsyncEventStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'ABORTED'

/** Size limits of SCF invocations. */
export const scfLimits = {
  /** async (Event) invocation payload */
  asyncEventBytes: 128 * 1024,
  /** sync invocation payload */
  syncEventBytes: 6 * 1024 * 1024,
  /** response body */
  responseBytes: 6 * 1024 * 1024,
} as const
