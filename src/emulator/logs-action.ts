/**
 * An emulator-only API action, `ScfGracefulGetAsyncEventLogs`: an async event's log lines and status over the signed
 * API 3.0 endpoint, so `scf-graceful events logs` needs only the API credentials (the cloud keeps logs in CLS, which
 * the SCF API does not serve; no real action exists to imitate). Params: `InvokeRequestId`, `Offset` (lines to skip).
 */
import { ApiError, truncate } from './api-params.js'
import type { Emulator } from './emulator.js'

export const LOGS_ACTION = 'ScfGracefulGetAsyncEventLogs'

export function getAsyncEventLogs(emulator: Emulator, params: unknown): Record<string, unknown> {
  const p = (params ?? {}) as { InvokeRequestId?: unknown; Offset?: unknown }
  if (typeof p.InvokeRequestId !== 'string' || !p.InvokeRequestId) throw new ApiError('MissingParameter', 'The request is missing InvokeRequestId.')
  const offset = p.Offset ?? 0
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new ApiError('InvalidParameterValue.Offset', 'Offset must be a whole number >= 0.')
  const id = p.InvokeRequestId
  const record = emulator.getEvent(id)
  const lines = emulator.getEventLogs(id)
  if (!record && !lines.length) throw new ApiError('ResourceNotFound.AsyncEvent', `Async event ${JSON.stringify(truncate(id, 64))} does not exist.`)
  return {
    InvokeRequestId: id,
    Status: record?.status ?? null,
    StatusCode: record?.statusCode ?? null,
    TotalCount: lines.length,
    Lines: lines.slice(offset).map((l) => ({ Time: l.time, Stream: l.stream, Line: l.line })),
  }
}
