/**
 * The Tencent Cloud API 3.0 endpoint of the emulator: `POST /` with a JSON body, the action in `X-TC-Action`,
 * TC3-HMAC-SHA256 verified, a per-action rate limit, and every answer (errors included) in the standard envelope
 * `{"Response": {..., "RequestId"}}` on HTTP 200.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isAction } from './actions.js'
import { ApiError, truncate } from './api-params.js'
import type { Emulator } from './emulator.js'
import { DEFAULT_MAX_SKEW_SECONDS, verifyTc3 } from './tc3.js'
import { BodyTooLargeError, readBody } from './read-body.js'

export const API_VERSION = '2018-04-16'

export interface ApiHandlerOptions {
  /** secretId -> secretKey accepted for signatures. */
  credentials: ReadonlyMap<string, string>
  /** Requests per second per action; `false` turns the limit off. @default 20 (the real limit) */
  rateLimit?: number | false
  /** @default 300 */
  maxSkewSeconds?: number
  /** Larger bodies get `RequestSizeLimitExceeded`. @default 10 MiB */
  maxBodyBytes?: number
}

/** A sliding one-second window per key, kept as a ring of the last `limit` request times. */
export class RateLimiter {
  readonly #limit: number
  readonly #rings = new Map<string, { times: number[]; next: number }>()
  constructor(limit: number) {
    this.#limit = limit
  }
  /** True if one more request for `key` fits in the last second (and counts it). */
  take(key: string, now = performance.now()): boolean {
    let ring = this.#rings.get(key)
    if (!ring) this.#rings.set(key, (ring = { times: new Array<number>(this.#limit).fill(-Infinity), next: 0 }))
    // the slot we would overwrite holds the request made `limit` requests ago
    if (now - (ring.times[ring.next] as number) < 1000) return false
    ring.times[ring.next] = now
    ring.next = (ring.next + 1) % this.#limit
    return true
  }
}

/** A Node request handler answering API 3.0 requests for `emulator`. */
export function createApiHandler(emulator: Emulator, options: ApiHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const limiter = options.rateLimit === false ? undefined : new RateLimiter(options.rateLimit ?? 20)
  const maxBody = options.maxBodyBytes ?? 10 * 1024 * 1024
  return (req, res) => {
    const requestId = randomUUID()
    handle(req, requestId).then(
      (payload) => send(req, res, { ...payload, RequestId: requestId }),
      (err: unknown) => {
        const e = err instanceof ApiError ? err : new ApiError('InternalError', 'An internal error occurred in the emulator.')
        send(req, res, { Error: { Code: e.code, Message: e.message }, RequestId: requestId })
      },
    )
  }

  async function handle(req: IncomingMessage, requestId: string): Promise<Record<string, unknown>> {
    void requestId
    const body = await readApiBody(req, maxBody)
    // split by hand: `new URL()` throws on request targets like `//`
    const target = req.url ?? '/'
    const q = target.indexOf('?')
    const url = { pathname: q < 0 ? target : target.slice(0, q), search: q < 0 ? '' : target.slice(q) }
    if (req.method !== 'POST') throw new ApiError('UnsupportedProtocol', `The emulator accepts POST requests with a JSON body; got ${truncate(String(req.method), 16)}.`)
    if (url.pathname !== '/') throw new ApiError('InvalidRequest', 'API requests go to POST /.')
    const action = header(req, 'x-tc-action')
    if (!action) throw new ApiError('MissingParameter', 'The request is missing the X-TC-Action header.')
    const version = header(req, 'x-tc-version')
    if (!version) throw new ApiError('MissingParameter', 'The request is missing the X-TC-Version header.')
    if (!isAction(action)) throw new ApiError('InvalidAction', `The action \`${truncate(action)}\` is not supported (the emulator answers Invoke, ListAsyncEvents, GetAsyncEventStatus, TerminateAsyncEvent).`)
    if (version !== API_VERSION) throw new ApiError('NoSuchVersion', `Version ${JSON.stringify(truncate(version, 20))} does not exist for scf; use ${API_VERSION}.`)
    const auth = verifyTc3(
      { method: req.method, path: url.pathname, query: url.search.slice(1), headers: req.headers, body },
      { credentials: options.credentials, maxSkewSeconds: options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS },
    )
    if (!auth.ok) throw new ApiError(auth.code, auth.message)
    if (limiter && !limiter.take(action)) throw new ApiError('RequestLimitExceeded', `Your request rate for ${action} is over the limit of ${options.rateLimit ?? 20} requests per second.`)
    const type = (header(req, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase()
    if (type !== 'application/json') throw new ApiError('InvalidParameter', 'The emulator accepts a JSON body (Content-Type: application/json).')
    let params: unknown
    try {
      params = body.length ? JSON.parse(body.toString('utf8')) : {}
    } catch {
      throw new ApiError('InvalidParameter', 'The request body is not valid JSON.')
    }
    return emulator.call(action, params as object)
  }
}

/** The API's own codes for a body it could not take. */
async function readApiBody(req: IncomingMessage, max: number): Promise<Buffer> {
  try {
    return await readBody(req, max)
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new ApiError('RequestSizeLimitExceeded', err.message)
    throw new ApiError('InvalidRequest', 'The request could not be read.')
  }
}

function send(req: IncomingMessage, res: ServerResponse, response: Record<string, unknown>): void {
  if (res.headersSent || res.destroyed) return
  const body = JSON.stringify({ Response: response })
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }
  const trace = header(req, 'x-tc-traceid')
  if (trace && /^[\w-]{1,64}$/.test(trace)) headers['X-TC-TraceId'] = trace
  if (!req.complete) headers.Connection = 'close'
  res.writeHead(200, headers)
  res.end(body)
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}
