import type { ServerResponse } from 'node:http'
import { ScfGracefulError, type ErrorCode } from '../errors.js'
import { redact } from '../log.js'

/**
 * How an invocation's outcome becomes an HTTP response of /event-invoke. SCF does not document how it reads the
 * status, so 2xx is success and everything else an error with a JSON body `{ errorCode, errorMessage, requestId }`.
 */

/** SCF's response body limit (status 407 on the platform). */
export const DEFAULT_RESPONSE_LIMIT = 6 * 1024 * 1024

export interface ErrorBody {
  errorCode: ErrorCode
  errorMessage: string
  /** The thrown error's name (handler errors only). */
  errorType?: string
  requestId?: string
}

/** The bytes and content type of a handler's result: string -> text, Buffer/Uint8Array -> bytes, anything else -> JSON. */
export function encodeResult(result: unknown): { body: Buffer; contentType: string } {
  if (typeof result === 'string') return { body: Buffer.from(result), contentType: 'text/plain; charset=utf-8' }
  if (Buffer.isBuffer(result)) return { body: result, contentType: 'application/octet-stream' }
  if (result instanceof Uint8Array) return { body: Buffer.from(result.buffer, result.byteOffset, result.byteLength), contentType: 'application/octet-stream' }
  // undefined has no JSON form; the handler returned nothing, which reads as null
  const json = result === undefined ? 'null' : JSON.stringify(result)
  return { body: Buffer.from(json ?? 'null'), contentType: 'application/json; charset=utf-8' }
}

/** The public body of a failed invocation: stable code and message (secrets redacted), never the stack. */
export function errorBody(error: unknown, requestId: string | undefined): ErrorBody {
  const body = describeError(error, requestId)
  body.errorMessage = redact(body.errorMessage)
  return body
}

function describeError(error: unknown, requestId: string | undefined): ErrorBody {
  if (error instanceof ScfGracefulError) return { errorCode: error.code, errorMessage: error.message, errorType: error.name, requestId }
  if (error instanceof Error) return { errorCode: 'SCFG_ERR_HANDLER_FAILED', errorMessage: error.message, errorType: error.name, requestId }
  const message = typeof error === 'string' ? error : (safeJson(error) ?? String(error))
  return { errorCode: 'SCFG_ERR_HANDLER_FAILED', errorMessage: message, errorType: 'Error', requestId }
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value)
  } catch {
    return undefined
  }
}

export function sendBytes(res: ServerResponse, status: number, body: Buffer, contentType: string): void {
  if (res.headersSent || res.destroyed) return
  res.statusCode = status
  res.setHeader('Content-Type', contentType)
  res.setHeader('Content-Length', body.length)
  res.end(body)
}

export function sendError(res: ServerResponse, status: number, body: ErrorBody): void {
  sendBytes(res, status, Buffer.from(JSON.stringify(body)), 'application/json; charset=utf-8')
}
