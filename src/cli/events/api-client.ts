/**
 * How the CLI talks to SCF: the official `tencentcloud-sdk-nodejs-scf` client (real cloud, or the emulator through
 * `--endpoint`), behind a small `EventsApi` so the same commands also run against an in-process emulator
 * (`emulator.call` has this shape). Every call goes through a per-action pacer (the API allows 20 requests/s per
 * action) and retries `RequestLimitExceeded` with backoff.
 */
import { importPeer } from '../../errors.js'
import { registerSecret } from '../../log.js'
import { ApiCallError, toApiCallError } from './errors.js'

/** Runs one API action; resolves with the `Response` payload, rejects with `{ code, message, requestId? }`. */
export interface EventsApi {
  call(action: string, params: object): Promise<Record<string, unknown>>
}

export interface SdkApiOptions {
  /** `http://127.0.0.1:9001` for the emulator; undefined = Tencent Cloud (`scf.tencentcloudapi.com`). */
  endpoint?: string | undefined
  region: string
  secretId: string
  secretKey: string
  sessionToken?: string | undefined
  /** Seconds the SDK waits for one answer. @default 60 */
  requestTimeoutS?: number
}

interface SdkClient {
  request(action: string, req: object, options?: object): Promise<Record<string, unknown>>
}
interface ScfModule {
  scf: { v20180416: { Client: new (config: object) => SdkClient } }
}

/** The SDK's httpProfile for an endpoint URL (`http://127.0.0.1:9001` -> endpoint `127.0.0.1:9001`, protocol `http://`). */
export function httpProfileFor(endpoint: string | undefined): { endpoint?: string; protocol?: string } {
  if (!endpoint) return {}
  const url = new URL(endpoint)
  return { endpoint: url.host, protocol: `${url.protocol}//` }
}

/** An EventsApi over the official SDK client (loaded lazily: it is an optional peer dependency). */
export async function createSdkApi(options: SdkApiOptions): Promise<EventsApi & { timeoutFor(action: string, seconds: number): void }> {
  const sdk = await importPeer<ScfModule>('tencentcloud-sdk-nodejs-scf', 'scf-graceful events')
  for (const secret of [options.secretId, options.secretKey, options.sessionToken]) registerSecret(secret)
  const timeouts = new Map<string, number>()
  const clients = new Map<number, SdkClient>()
  const clientFor = (timeoutS: number): SdkClient => {
    let client = clients.get(timeoutS)
    if (!client) {
      client = new sdk.scf.v20180416.Client({
        credential: { secretId: options.secretId, secretKey: options.secretKey, ...(options.sessionToken ? { token: options.sessionToken } : {}) },
        region: options.region,
        profile: { language: 'en-US', httpProfile: { reqTimeout: timeoutS, ...httpProfileFor(options.endpoint) } },
      })
      clients.set(timeoutS, client)
    }
    return client
  }
  return {
    timeoutFor(action, seconds) {
      timeouts.set(action, seconds)
    },
    async call(action, params) {
      const client = clientFor(timeouts.get(action) ?? options.requestTimeoutS ?? 60)
      // request() is the SDK's generic signed call; the typed methods are thin wrappers over it
      return client.request(action, params)
    },
  }
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
