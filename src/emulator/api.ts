/**
 * The Tencent Cloud API 3.0 endpoint of the emulator, in every request style the API documents (doc 1278/46710) and
 * the official SDKs can be set to: POST with a JSON body, GET with the parameters in the query string, and
 * `application/x-www-form-urlencoded` POST; signed TC3-HMAC-SHA256 (action and version in `X-TC-*` headers) or
 * signature v1 (common parameters among the others; GET and form POST only). A per-action rate limit, and every
 * answer (errors included) in the standard envelope `{"Response": {..., "RequestId"}}` on HTTP 200.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parse as parseQuery } from 'node:querystring'
import { DEFAULT_RATE_LIMITS, isAction, paramSpec, type ActionName } from './actions.js'
import { ApiError, truncate, typeFlatParams } from './api-params.js'
import { getAsyncEventLogs, LOGS_ACTION } from './logs-action.js'
import type { Emulator } from './emulator.js'
import { BodyTooLargeError, readBody } from './read-body.js'
import { verifyV1 } from './signature-v1.js'
import { DEFAULT_MAX_SKEW_SECONDS, verifyTc3 } from './tc3.js'

export const API_VERSION = '2018-04-16'

export interface ApiHandlerOptions {
  /** secretId -> secretKey accepted for signatures. */
  credentials: ReadonlyMap<string, string>
  /**
   * Requests per second per action: one number for every action, or `false` for no limit.
   * @default Invoke and InvokeFunction 100, the event APIs 20 (the real limits)
   */
  rateLimit?: number | false
  /** @default 300 */
  maxSkewSeconds?: number
  /** Larger bodies get `RequestSizeLimitExceeded`. @default 10 MiB */
  maxBodyBytes?: number
}

/** A sliding one-second window per key, kept as a ring of the last `limit` request times. */
export class RateLimiter {
  readonly #limitOf: (key: string) => number
  readonly #rings = new Map<string, { times: number[]; next: number }>()
  constructor(limit: number | ((key: string) => number)) {
    this.#limitOf = typeof limit === 'number' ? () => limit : limit
  }
  /** True if one more request for `key` fits in the last second (and counts it). */
  take(key: string, now = performance.now()): boolean {
    let ring = this.#rings.get(key)
    if (!ring) this.#rings.set(key, (ring = { times: new Array<number>(this.#limitOf(key)).fill(-Infinity), next: 0 }))
    // the slot we would overwrite holds the request made `limit` requests ago
    if (now - (ring.times[ring.next] as number) < 1000) return false
    ring.times[ring.next] = now
    ring.next = (ring.next + 1) % ring.times.length
    return true
  }
}

/** The limit of `action` under the `rateLimit` option. */
export function rateLimitOf(action: ActionName | typeof LOGS_ACTION, option: number | undefined): number {
  // the emulator's own logs action is limited like the event APIs
  return option ?? (action === LOGS_ACTION ? DEFAULT_RATE_LIMITS.GetAsyncEventStatus : DEFAULT_RATE_LIMITS[action])
}

/** The common parameters of signature v1 (and of the query-string style), not the action's own. */
const COMMON_PARAMS = new Set(['Action', 'Version', 'Region', 'Timestamp', 'Nonce', 'SecretId', 'Signature', 'SignatureMethod', 'Token', 'Language', 'RequestClient'])

/** A Node request handler answering API 3.0 requests for `emulator`. */
export function createApiHandler(emulator: Emulator, options: ApiHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const configured = options.rateLimit === false ? undefined : options.rateLimit
  const limiter = options.rateLimit === false ? undefined : new RateLimiter((action) => rateLimitOf(action as ActionName | typeof LOGS_ACTION, configured))
  const maxBody = options.maxBodyBytes ?? 10 * 1024 * 1024
  const maxSkewSeconds = options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS
  return (req, res) => {
    const requestId = randomUUID()
    handle(req).then(
      (payload) => send(req, res, { ...payload, RequestId: requestId }),
      (err: unknown) => {
        const e = err instanceof ApiError ? err : new ApiError('InternalError', 'An internal error occurred in the emulator.')
        send(req, res, { Error: { Code: e.apiCode, Message: e.message }, RequestId: requestId })
      },
    )
  }

  async function handle(req: IncomingMessage): Promise<Record<string, unknown>> {
    const body = await readApiBody(req, maxBody)
    // split by hand: `new URL()` throws on request targets like `//`
    const target = req.url ?? '/'
    const q = target.indexOf('?')
    const url = { pathname: q < 0 ? target : target.slice(0, q), search: q < 0 ? '' : target.slice(q) }
    const method = String(req.method)
    if (method !== 'POST' && method !== 'GET') throw new ApiError('UnsupportedProtocol', `The API accepts GET and POST requests; got ${truncate(method, 16)}.`)
    if (url.pathname !== '/') throw new ApiError('InvalidRequest', `API requests go to ${method} /.`)
    const type = (header(req, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase()
    const form = method === 'POST' && type === 'application/x-www-form-urlencoded'
    if (method === 'POST' && !form && type !== 'application/json') {
      throw new ApiError('InvalidParameter', 'The API accepts a JSON body (Content-Type: application/json), a form body (application/x-www-form-urlencoded), or GET with a query string.')
    }
    // the flat parameters of the query string (GET) or the form body; none for a JSON body
    const flat = method === 'GET' ? flatParams(url.search.slice(1)) : form ? flatParams(body.toString('utf8')) : undefined
    const v1 = header(req, 'authorization') === undefined && flat !== undefined && (flat.Signature !== undefined || flat.SecretId !== undefined)

    const action = v1 ? flat?.Action : header(req, 'x-tc-action')
    if (!action) throw new ApiError('MissingParameter', v1 ? 'The request is missing the parameter `Action`.' : 'The request is missing the X-TC-Action header.')
    const version = v1 ? flat?.Version : header(req, 'x-tc-version')
    if (!version) throw new ApiError('MissingParameter', v1 ? 'The request is missing the parameter `Version`.' : 'The request is missing the X-TC-Version header.')
    // the emulator's own action for `scf-graceful events logs` (the cloud keeps logs in CLS): signed like the others
    const emulatorOnly = action === LOGS_ACTION
    if (!isAction(action) && !emulatorOnly) throw new ApiError('InvalidAction', `The action \`${truncate(action)}\` is not supported (the emulator answers Invoke, InvokeFunction, ListAsyncEvents, GetAsyncEventStatus, TerminateAsyncEvent).`)
    if (version !== API_VERSION) throw new ApiError('NoSuchVersion', `Version ${JSON.stringify(truncate(version, 20))} does not exist for scf; use ${API_VERSION}.`)

    const auth = v1
      ? verifyV1({ method, host: header(req, 'host') ?? '', path: url.pathname, params: flat as Record<string, string> }, { credentials: options.credentials, maxSkewSeconds })
      : verifyTc3({ method, path: url.pathname, query: url.search.slice(1), headers: req.headers, body }, { credentials: options.credentials, maxSkewSeconds })
    if (!auth.ok) throw new ApiError(auth.code, auth.message)
    if (limiter && !limiter.take(action)) throw new ApiError('RequestLimitExceeded', `Your request rate for ${action} is over the limit of ${rateLimitOf(action as ActionName | typeof LOGS_ACTION, configured)} requests per second.`)

    let params: unknown
    if (flat !== undefined) {
      const own: Record<string, string> = Object.create(null)
      for (const [k, v] of Object.entries(flat)) if (!COMMON_PARAMS.has(k)) own[k] = v
      params = emulatorOnly ? own : typeFlatParams(own, paramSpec(action as ActionName))
    } else {
      try {
        params = body.length ? JSON.parse(body.toString('utf8')) : {}
      } catch {
        throw new ApiError('InvalidParameter', 'The request body is not valid JSON.')
      }
    }
    if (emulatorOnly) return getAsyncEventLogs(emulator, params)
    return emulator.call(action as ActionName, params as object)
  }
}

/** A query string or form body as name -> value (the first value of a repeated name). */
function flatParams(text: string): Record<string, string> {
  const parsed = parseQuery(text)
  const out: Record<string, string> = Object.create(null)
  for (const [k, v] of Object.entries(parsed)) out[k] = Array.isArray(v) ? (v[0] ?? '') : (v ?? '')
  return out
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
