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

/** An encoded response body: text stays a string, so Node sends it in one write with the headers. */
export interface EncodedBody {
  body: string | Buffer
  bytes: number
  contentType: string
}

const JSON_TYPE = 'application/json; charset=utf-8'

/** The body and content type of a handler's result: string -> text, Buffer/Uint8Array -> bytes, anything else -> JSON. */
export function encodeResult(result: unknown): EncodedBody {
  if (typeof result === 'string') return { body: result, bytes: Buffer.byteLength(result), contentType: 'text/plain; charset=utf-8' }
  if (Buffer.isBuffer(result)) return { body: result, bytes: result.length, contentType: 'application/octet-stream' }
  if (result instanceof Uint8Array) return { body: Buffer.from(result.buffer, result.byteOffset, result.byteLength), bytes: result.byteLength, contentType: 'application/octet-stream' }
  // undefined has no JSON form; the handler returned nothing, which reads as null
  const json = (result === undefined ? undefined : JSON.stringify(result)) ?? 'null'
  return jsonBody(json)
}

export const jsonBody = (json: string): EncodedBody => ({ body: json, bytes: Buffer.byteLength(json), contentType: JSON_TYPE })

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

export function sendBody(res: ServerResponse, status: number, { body, bytes, contentType }: EncodedBody): void {
  if (res.headersSent || res.destroyed) return
  res.statusCode = status
  res.setHeader('Content-Type', contentType)
  res.setHeader('Content-Length', bytes)
  res.end(body)
}

export function sendError(res: ServerResponse, status: number, body: ErrorBody): void {
  sendBody(res, status, jsonBody(JSON.stringify(body)))
}
