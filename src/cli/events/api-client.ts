/**
 * How the CLI talks to SCF: Tencent Cloud API 3.0 over `fetch`, signed TC3-HMAC-SHA256 with the same code the
 * emulator verifies with (src/emulator/tc3.ts), so `scf-graceful events` needs no SDK installed. The real cloud by
 * default, the emulator through `--endpoint`. Behind a small `EventsApi`, so the same commands also run against an
 * in-process emulator (`emulator.call` has this shape). Every call goes through a per-action pacer (the API allows
 * 20 requests/s per action) and retries `RequestLimitExceeded` with backoff.
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { signTc3 } from '../../emulator/tc3.js'
import { registerSecret } from '../../log.js'
import { ApiCallError, NETWORK_ERROR, toApiCallError } from './errors.js'

/** Runs one API action; resolves with the `Response` payload, rejects with `{ code, message, requestId? }`. */
export interface EventsApi {
  call(action: string, params: object): Promise<Record<string, unknown>>
}

export interface SdkApiOptions {
  /** `http://127.0.0.1:9001` for the emulator; undefined = Tencent Cloud (`https://scf.tencentcloudapi.com`). */
  endpoint?: string | undefined
  region: string
  secretId: string
  secretKey: string
  sessionToken?: string | undefined
  /** Seconds to wait for one answer. @default 60 */
  requestTimeoutS?: number
}

/** The SCF API version every action of this CLI uses. */
export const SCF_API_VERSION = '2018-04-16'
const CLOUD_ENDPOINT = 'https://scf.tencentcloudapi.com'

/**
 * An EventsApi that signs each request itself (TC3-HMAC-SHA256) and sends it with node:http(s). Errors come back as the
 * API's `{ Code, Message }` with the RequestId; a request that gets no answer is `NetworkError`.
 */
export function createSignedApi(options: SdkApiOptions): EventsApi & { timeoutFor(action: string, seconds: number): void } {
  for (const secret of [options.secretId, options.secretKey, options.sessionToken]) registerSecret(secret)
  const url = new URL(options.endpoint ?? CLOUD_ENDPOINT)
  const timeouts = new Map<string, number>()
  return {
    timeoutFor(action, seconds) {
      timeouts.set(action, seconds)
    },
    async call(action, params) {
      const body = JSON.stringify(params)
      const timestamp = Math.floor(Date.now() / 1000)
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        Host: url.host,
        'X-TC-Action': action,
        'X-TC-Version': SCF_API_VERSION,
        'X-TC-Timestamp': String(timestamp),
        'X-TC-Region': options.region,
        'X-TC-Language': 'en-US',
        'X-TC-RequestClient': 'scf-graceful',
      }
      if (options.sessionToken) headers['X-TC-Token'] = options.sessionToken
      headers.Authorization = signTc3({ secretId: options.secretId, secretKey: options.secretKey, timestamp, service: 'scf', headers, body })
      const timeoutS = timeouts.get(action) ?? options.requestTimeoutS ?? 60
      let res: { status: number; ok: boolean }
      let text: string
      try {
        const answer = await post(url, headers, body, timeoutS * 1000)
        res = { status: answer.status, ok: answer.status >= 200 && answer.status < 300 }
        text = answer.text
      } catch (err) {
        const why = (err as Error)?.name === 'TimeoutError' ? `no answer in ${timeoutS} s` : (err as Error)?.message ?? String(err)
        throw new ApiCallError(action, NETWORK_ERROR, `request to ${url.origin} failed: ${why}`, undefined, { cause: err })
      }
      let parsed: { Response?: Record<string, unknown> & { Error?: { Code?: string; Message?: string }; RequestId?: string } }
      try {
        parsed = JSON.parse(text) as typeof parsed
      } catch {
        throw new ApiCallError(action, res.ok ? 'InternalError' : NETWORK_ERROR, `${url.origin} answered HTTP ${res.status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`)
      }
      const response = parsed.Response
      if (!response || typeof response !== 'object') throw new ApiCallError(action, 'InternalError', `${url.origin} answered HTTP ${res.status} without a Response object`)
      if (response.Error) throw new ApiCallError(action, String(response.Error.Code ?? 'InternalError'), String(response.Error.Message ?? ''), response.RequestId)
      return response
    },
  }
}

/**
 * One POST with node:http(s), bounded. Not fetch: its first use loads undici, about 250 ms of CPU at every start of
 * a short-lived command (BENCHMARKS.md, CLI).
 */
function post(url: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const req = send(url.origin + '/', { method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        clearTimeout(timer)
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') })
      })
      res.on('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
    })
    const timer = setTimeout(() => {
      const err = new Error(`no answer in ${timeoutMs} ms`)
      err.name = 'TimeoutError'
      req.destroy(err)
    }, timeoutMs)
    req.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    req.end(body)
  })
}

/**
 * Spaces calls of each action at least `1000 / perSecond` ms apart, so a bulk operation never trips the
 * 20 requests/s limit by itself. Reservations are made synchronously, so concurrent callers queue in order.
 */
export class Pacer {
  readonly #intervalMs: number
  readonly #next = new Map<string, number>()
  constructor(perSecond: number) {
    this.#intervalMs = 1000 / perSecond
  }
  async slot(action: string): Promise<void> {
    const now = performance.now()
    const at = Math.max(now, this.#next.get(action) ?? 0)
    this.#next.set(action, at + this.#intervalMs)
    if (at > now) await sleep(at - now)
  }
}

export interface ReliableApiOptions {
  /** Requests per second per action this process allows itself. @default 15 (under the real 20) */
  ratePerSecond?: number
  /** Retries after `RequestLimitExceeded`. @default 5 */
  retries?: number
  /** First backoff; doubles each retry, with jitter. @default 250 */
  backoffMs?: number
  /** Told about each retry (the CLI prints it on stderr). */
  onRetry?: (info: { action: string; attempt: number; delayMs: number; error: ApiCallError }) => void
}

/** Wraps an EventsApi with the pacer and RequestLimitExceeded retries; errors come out as ApiCallError. */
export function reliableApi(api: EventsApi, options: ReliableApiOptions = {}): EventsApi {
  const pacer = new Pacer(options.ratePerSecond ?? 15)
  const retries = options.retries ?? 5
  const backoff = options.backoffMs ?? 250
  return {
    async call(action, params) {
      for (let attempt = 0; ; attempt++) {
        await pacer.slot(action)
        try {
          return await api.call(action, params)
        } catch (err) {
          const error = toApiCallError(action, err)
          if (error.apiCode !== 'RequestLimitExceeded' || attempt >= retries) throw error
          const delayMs = Math.round(backoff * 2 ** attempt * (0.75 + Math.random() * 0.5))
          options.onRetry?.({ action, attempt: attempt + 1, delayMs, error })
          await sleep(delayMs)
        }
      }
    },
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
