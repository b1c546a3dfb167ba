/**
 * The object-storage store: one S3 implementation for Tencent COS (its S3-compatible endpoint), Ceph RGW, MinIO and
 * AWS S3. `@aws-sdk/client-s3` is an optional peer dependency, imported on the first operation (importing this
 * module costs nothing).
 */
import type { S3Client } from '@aws-sdk/client-s3'
import { Readable } from 'node:stream'
import { ScfGracefulError, importPeer, invalidOption } from '../errors.js'
import { registerSecret, safeLogger, type Logger } from '../log.js'
import type { SnapshotStore, StoreBody, StoreOperationOptions, StorePutOptions } from '../persistence/store.js'
import { assertKey, assertListPrefix, keyList, normalizePrefix } from './internal/keys.js'
import { intOption, isBytesBody } from './internal/options.js'
import { withRetry } from './internal/retry.js'

type S3Module = typeof import('@aws-sdk/client-s3')

export interface S3Credentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export interface S3StoreOptions {
  /** The bucket (it must exist). */
  bucket: string
  /**
   * Every key is stored under this prefix; a `/` is added when it does not end in one.
   * @default '' (the bucket's root)
   */
  prefix?: string
  /** A ready client. The store never closes it. When given, endpoint/region/credentials/forcePathStyle are ignored. */
  client?: S3Client
  /** e.g. `http://127.0.0.1:7480` (Ceph RGW, MinIO) or `https://cos.ap-guangzhou.myqcloud.com`. @default AWS's endpoint for `region` */
  endpoint?: string
  /** @default process.env.AWS_REGION ?? 'us-east-1' */
  region?: string
  /** Static credentials, or a provider function. @default the AWS SDK's default chain */
  credentials?: S3Credentials | (() => Promise<S3Credentials>)
  /** Path-style URLs (`endpoint/bucket/key`), which Ceph RGW and MinIO need. @default true when `endpoint` is given */
  forcePathStyle?: boolean
  /** Retries after the first attempt for throttling (SlowDown, 429, 503), other 5xx and dropped connections. @default 4 */
  retries?: number
  /** First backoff (doubles each retry, full jitter). @default 100 */
  retryBaseDelayMs?: number
  /** Cap of one backoff. @default 5000 */
  retryMaxDelayMs?: number
  /**
   * Bound of one attempt of a request: connecting, sending and the first byte of the answer (a server that accepts
   * and never answers fails the attempt, which is retried; after the retries: SCFG_ERR_STORE_UNAVAILABLE). A
   * download also fails when no byte arrives for this long. Applies to a passed-in `client` too. A streamed PUT
   * larger than `partSizeBytes` is bounded by idle time only (it may legitimately take long).
   * @default 30000
   */
  requestTimeoutMs?: number
  /** Bound of the TCP/TLS connect of one attempt (clients this store builds). @default 5000 */
  connectTimeoutMs?: number
  /**
   * Streamed bodies up to this size are buffered (so a failed attempt can be retried); larger streams of known `size`
   * go out in one streamed PUT (not retried), larger streams of unknown size as a multipart upload in parts of this size.
   * @default 8 MiB (at least 5 MiB, the S3 minimum part size)
   */
  partSizeBytes?: number
  /** Sockets kept open to the server (clients this store builds). @default 64 */
  maxSockets?: number
  /** Retry lines go here (never credentials). @default silent */
  logger?: Logger | false
}

/** An S3 store: the SnapshotStore contract plus where it points (never the credentials). */
export interface S3Store extends SnapshotStore {
  readonly kind: 's3'
  readonly bucket: string
  readonly prefix: string
  /** The endpoint it was configured with, or undefined for AWS's default endpoint or a passed-in client. */
  readonly endpoint: string | undefined
  readonly region: string | undefined
  /** Closes the connections this store opened (never a client that was passed in). */
  close(): Promise<void>
}

const MIN_PART = 5 * 1024 * 1024
const AUTH_NAMES = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'InvalidSecurity', 'CredentialsProviderError'])
const RETRY_NAMES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestTimeout', 'RequestTimeoutException', 'InternalError', 'ServiceUnavailable', 'TimeoutError'])
const RETRY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET'])

interface S3ErrorLike {
  name?: string
  code?: string
  Code?: string
  $metadata?: { httpStatusCode?: number }
  $retryable?: unknown
}

function statusOf(error: unknown): number | undefined {
  return (error as S3ErrorLike)?.$metadata?.httpStatusCode
}

function nameOf(error: unknown): string {
  const e = error as S3ErrorLike
  return e?.Code ?? e?.name ?? 'Error'
}

function isRetryable(error: unknown): boolean {
  if (error instanceof ScfGracefulError) return false
  const status = statusOf(error)
  if (status !== undefined && (status >= 500 || status === 429)) return true
  const e = error as S3ErrorLike
  return RETRY_NAMES.has(nameOf(error)) || RETRY_CODES.has(e?.code ?? '') || e?.$retryable !== undefined
    || (status === undefined && /socket hang up|ECONNRESET|other side closed/i.test(String((error as Error)?.message)))
}

/**
 * Builds a store over any S3-compatible service.
 *
 * @example
 * import { s3Store } from 'scf-graceful/stores/s3'
 * const store = s3Store({
 *   bucket: 'snapshots', prefix: 'my-fn/',
 *   endpoint: 'http://127.0.0.1:7480', region: 'us-east-1',
 *   credentials: { accessKeyId: process.env.S3_KEY!, secretAccessKey: process.env.S3_SECRET! },
 * })
 */
export function s3Store(options: S3StoreOptions): S3Store {
  if (options === null || typeof options !== 'object') throw invalidOption('options', options, 'an object')
  const { bucket } = options
  if (typeof bucket !== 'string' || bucket.length < 3 || bucket.length > 63 || /[^a-zA-Z0-9._-]/.test(bucket)) {
    throw invalidOption('bucket', bucket, 'a bucket name (3-63 characters: letters, digits, ".", "-", "_")')
  }
  let prefix = normalizePrefix(options.prefix)
  if (prefix && !prefix.endsWith('/')) prefix += '/'
  if (options.client !== undefined && (typeof options.client !== 'object' || typeof (options.client as { send?: unknown }).send !== 'function')) {
    throw invalidOption('client', options.client, 'an S3Client from @aws-sdk/client-s3')
  }
  if (options.endpoint !== undefined && (typeof options.endpoint !== 'string' || !/^https?:\/\/[^/]+/.test(options.endpoint))) {
    throw invalidOption('endpoint', options.endpoint, 'an http(s) URL such as "http://127.0.0.1:7480"')
  }
  if (options.region !== undefined && (typeof options.region !== 'string' || options.region === '')) throw invalidOption('region', options.region, 'a region name')
  const creds = options.credentials
  if (creds !== undefined && typeof creds !== 'function') {
    if (typeof creds !== 'object' || creds === null || typeof creds.accessKeyId !== 'string' || typeof creds.secretAccessKey !== 'string') {
      throw invalidOption('credentials', creds, '{ accessKeyId, secretAccessKey, sessionToken? } or a provider function')
    }
    registerSecret(creds.secretAccessKey)
    registerSecret(creds.sessionToken)
  }
  const retries = intOption('retries', options.retries, 4, 0)
  const baseDelay = intOption('retryBaseDelayMs', options.retryBaseDelayMs, 100, 1)
  const maxDelay = intOption('retryMaxDelayMs', options.retryMaxDelayMs, 5000, 1)
  const requestTimeout = intOption('requestTimeoutMs', options.requestTimeoutMs, 30_000, 1)
  const connectTimeout = intOption('connectTimeoutMs', options.connectTimeoutMs, 5000, 1)
  const maxSockets = intOption('maxSockets', options.maxSockets, 64, 1)
  const partSize = Math.max(MIN_PART, intOption('partSizeBytes', options.partSizeBytes, 8 * 1024 * 1024, 1))
  const logger = options.logger ? safeLogger(options.logger) : undefined
  const region = options.client ? undefined : options.region ?? process.env.AWS_REGION ?? 'us-east-1'

  let loaded: Promise<{ mod: S3Module; client: S3Client; owned: boolean }> | undefined
  const load = () =>
    (loaded ??= (async () => {
      const mod = await importPeer<S3Module>('@aws-sdk/client-s3', 's3Store')
      if (options.client) return { mod, client: options.client, owned: false }
      const { Agent: HttpAgent } = await import('node:http')
      const { Agent: HttpsAgent } = await import('node:https')
      const client = new mod.S3Client({
        region,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(creds ? { credentials: creds } : {}),
        forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
        // Ceph RGW rejects aws-chunked stream uploads (411) and some servers store the chunk framing: only send
        // checksums where the API requires them
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        // our retry loop is bounded by the caller's signal; the SDK's own would not be
        maxAttempts: 1,
        requestHandler: {
          connectionTimeout: connectTimeout,
          // without throwOnRequestTimeout, @smithy/node-http-handler >= 4 only logs a warning when requestTimeout
          // passes (issue 10); socketTimeout bounds a stalled body. Each attempt is also bounded by our own timer
          // (attempt() below), for older handlers and passed-in clients.
          requestTimeout,
          throwOnRequestTimeout: true,
          socketTimeout: requestTimeout,
          httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
          httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
        },
      })
      return { mod, client, owned: true }
    })().catch((error) => {
      loaded = undefined
      throw error
    }))

  const fail = (error: unknown, op: string, key: string | undefined, signal: AbortSignal | undefined, attempts = retries): unknown => {
    if (signal?.aborted) return signal.reason
    if (error instanceof ScfGracefulError) return error
    const status = statusOf(error)
    const name = nameOf(error)
    const where = `${bucket}/${prefix}${key ?? ''}`
    // a network error has no HTTP status and a generic name: its message says what happened (ECONNREFUSED, a timeout)
    const detail = status === undefined ? networkDetail(error, name) : ''
    const what = `s3 ${op} ${where}: ${name}${detail}${status ? ` (HTTP ${status})` : ''}`
    if (status === 401 || status === 403 || AUTH_NAMES.has(name)) {
      return new ScfGracefulError('SCFG_ERR_STORE_AUTH', `${what}: the server rejected the credentials`, { cause: error, details: { bucket, status, name } })
    }
    if (name === 'NoSuchBucket') return new ScfGracefulError('SCFG_ERR_STORE_NOT_FOUND', `${what}: the bucket does not exist`, { cause: error, details: { bucket, status, name } })
    return new ScfGracefulError('SCFG_ERR_STORE_UNAVAILABLE', `${what}${isRetryable(error) && attempts > 0 ? ` after ${attempts + 1} attempts` : ''}`, { cause: error, details: { bucket, status, name } })
  }

  /**
   * One S3 call with retries, abort and error mapping. Each attempt runs with its own signal: aborted by the
   * caller's signal, or after `bound` ms without an answer (0: no bound). `hold` keeps the caller's abort wired to
   * the attempt past the answer (a GET's body is read after it) and receives the function that unwires it.
   */
  const call = async <T>(op: string, key: string | undefined, signal: AbortSignal | undefined, run: (mod: S3Module, client: S3Client, attemptSignal: AbortSignal) => Promise<T>, attempts = retries, bound = requestTimeout, hold?: (release: () => void) => void): Promise<T> => {
    try {
      const { mod, client } = await load()
      return await withRetry(
        async (n) => {
          if (n > 0) logger?.warn(`s3 ${op} ${bucket}/${prefix}${key ?? ''}: retry ${n}/${attempts}`)
          return attempt(bound, signal, `s3 ${op} ${bucket}/${prefix}${key ?? ''}`, (attemptSignal) => run(mod, client, attemptSignal), hold)
        },
        { retries: attempts, baseDelayMs: baseDelay, maxDelayMs: maxDelay, signal, isRetryable },
      )
    } catch (error) {
      throw fail(error, op, key, signal, attempts)
    }
  }

  const putBuffer = (key: string, buf: Uint8Array, signal: AbortSignal | undefined) =>
    call('put', key, signal, (mod, client, s) =>
      client.send(new mod.PutObjectCommand({ Bucket: bucket, Key: prefix + key, Body: buf, ContentLength: buf.byteLength }), { abortSignal: s }),
    )

  const putStream = async (key: string, body: AsyncIterable<Uint8Array>, size: number | undefined, signal: AbortSignal | undefined) => {
    if (size !== undefined && size > partSize) {
      // one streamed request: its body cannot be replayed, so no retry once it started
      // a long upload is not a hung one: no total bound (requestTimeout 0), the socket's idle timeout still holds
      await call('put', key, signal, (mod, client, s) =>
        client.send(new mod.PutObjectCommand({ Bucket: bucket, Key: prefix + key, Body: Readable.from(body, { objectMode: false }), ContentLength: size }), { abortSignal: s, requestTimeout: 0 }),
      0, 0)
      return
    }
    let parts: Uint8Array[] = []
    let buffered = 0
    let upload: { id: string; done: { ETag: string; PartNumber: number }[] } | undefined
    const flushPart = async (last: boolean) => {
      const buf = Buffer.concat(parts, buffered)
      parts = []
      buffered = 0
      if (!upload) {
        if (last) return putBuffer(key, buf, signal)
        const created = await call('put', key, signal, (mod, client, s) =>
          client.send(new mod.CreateMultipartUploadCommand({ Bucket: bucket, Key: prefix + key }), { abortSignal: s }))
        upload = { id: created.UploadId!, done: [] }
      }
      const partNumber = upload.done.length + 1
      const { id } = upload
      const out = await call('put', key, signal, (mod, client, s) =>
        client.send(new mod.UploadPartCommand({ Bucket: bucket, Key: prefix + key, UploadId: id, PartNumber: partNumber, Body: buf, ContentLength: buf.byteLength }), { abortSignal: s }))
      upload.done.push({ ETag: out.ETag!, PartNumber: partNumber })
      if (last) {
        const done = upload.done
        await call('put', key, signal, (mod, client, s) =>
          client.send(new mod.CompleteMultipartUploadCommand({ Bucket: bucket, Key: prefix + key, UploadId: id, MultipartUpload: { Parts: done } }), { abortSignal: s }))
      }
    }
    try {
      for await (const piece of body) {
        signal?.throwIfAborted()
        parts.push(piece)
        buffered += piece.byteLength
        if (buffered >= partSize) await flushPart(false)
      }
      await flushPart(true)
    } catch (error) {
      if (upload) {
        const { id } = upload
        // best effort, bounded: an unfinished multipart upload only costs storage until the bucket's lifecycle rule
        await call('put', key, undefined, (mod, client, s) =>
          client.send(new mod.AbortMultipartUploadCommand({ Bucket: bucket, Key: prefix + key, UploadId: id }), { abortSignal: s }), 0, Math.min(requestTimeout, 5000)).catch(() => {})
      }
      throw signal?.aborted ? signal.reason : error
    }
  }

  // set once the bucket is known to exist, so a missing key costs one HEAD, not two
  let bucketSeen = false

  const store: S3Store = {
    kind: 's3',
    bucket,
    prefix,
    endpoint: options.client ? undefined : options.endpoint,
    region,

    async put(key: string, body: StoreBody, opts: StorePutOptions = {}) {
      assertKey(key)
      const { signal, size } = opts
      signal?.throwIfAborted()
      if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) throw invalidOption('size', size, 'a byte count')
      if (isBytesBody(body)) await putBuffer(key, body, signal)
      else await putStream(key, body, size, signal)
    },

    async get(key: string, opts: StoreOperationOptions = {}) {
      assertKey(key)
      const { signal } = opts
      signal?.throwIfAborted()
      let out
      let release = () => {}
      try {
        out = await call('get', key, signal, (mod, client, s) => client.send(new mod.GetObjectCommand({ Bucket: bucket, Key: prefix + key }), { abortSignal: s }), retries, requestTimeout, (r) => (release = r))
      } catch (error) {
        const cause = (error as ScfGracefulError).cause
        if (error instanceof ScfGracefulError && (nameOf(cause) === 'NoSuchKey' || (statusOf(cause) === 404 && nameOf(cause) !== 'NoSuchBucket'))) return undefined
        throw error
      }
      return guardBody(out.Body as AsyncIterable<Uint8Array> | undefined, requestTimeout, `s3 get ${bucket}/${prefix}${key}`, (error) => fail(error, 'get', key, signal), release)
    },

    async has(key: string, opts: StoreOperationOptions = {}) {
      assertKey(key)
      const { signal } = opts
      signal?.throwIfAborted()
      try {
        await call('has', key, signal, (mod, client, s) => client.send(new mod.HeadObjectCommand({ Bucket: bucket, Key: prefix + key }), { abortSignal: s }))
        return true
      } catch (error) {
        // HEAD has no body, so a missing bucket is a 404 too: tell it apart with a bucket check only then
        if (error instanceof ScfGracefulError && statusOf(error.cause) === 404) {
          if (bucketSeen) return false
          await call('has', undefined, signal, (mod, client, s) => client.send(new mod.HeadBucketCommand({ Bucket: bucket }), { abortSignal: s })).catch((bucketError) => {
            throw statusOf((bucketError as ScfGracefulError).cause) === 404
              ? new ScfGracefulError('SCFG_ERR_STORE_NOT_FOUND', `s3 has ${bucket}: the bucket does not exist`, { cause: bucketError, details: { bucket } })
              : bucketError
          })
          bucketSeen = true
          return false
        }
        throw error
      }
    },

    async *list(listPrefix: string, opts: StoreOperationOptions = {}) {
      assertListPrefix(listPrefix)
      const { signal } = opts
      let token: string | undefined
      do {
        signal?.throwIfAborted()
        const page = await call('list', listPrefix, signal, (mod, client, s) =>
          client.send(new mod.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix + listPrefix, ContinuationToken: token, MaxKeys: 1000 }), { abortSignal: s }))
        for (const item of page.Contents ?? []) if (item.Key) yield item.Key.slice(prefix.length)
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
    },

    async delete(keys: string | readonly string[], opts: StoreOperationOptions = {}) {
      const list = keyList(keys)
      const { signal } = opts
      signal?.throwIfAborted()
      for (let i = 0; i < list.length; i += 1000) {
        const batch = list.slice(i, i + 1000)
        const out = await call('delete', batch[0], signal, (mod, client, s) =>
          client.send(new mod.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((key) => ({ Key: prefix + key })), Quiet: true } }), { abortSignal: s }))
        const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey')
        if (failed.length > 0) {
          const first = failed[0]!
          const code = first.Code === 'AccessDenied' ? 'SCFG_ERR_STORE_AUTH' : 'SCFG_ERR_STORE_UNAVAILABLE'
          throw new ScfGracefulError(code, `s3 delete ${bucket}: ${failed.length} of ${batch.length} keys failed (first: ${first.Key} ${first.Code})`, { details: { bucket, errors: failed.slice(0, 10) } })
        }
      }
    },

    // a killed streamed put leaves its multipart upload open (its parts are stored and billed, never listed as keys)
    async sweepTemp(olderThanMs: number, opts: StoreOperationOptions = {}) {
      const { signal } = opts
      const cutoff = Date.now() - olderThanMs
      let removed = 0
      let keyMarker: string | undefined
      let uploadIdMarker: string | undefined
      do {
        const page = await call('sweep', undefined, signal, (mod, client) =>
          client.send(new mod.ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }), { abortSignal: signal }))
        for (const upload of page.Uploads ?? []) {
          if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated.getTime() >= cutoff) continue
          const aborted = await call('sweep', upload.Key.slice(prefix.length), signal, (mod, client) =>
            client.send(new mod.AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }), { abortSignal: signal })).then(
            () => true,
            (error: unknown) => {
              // finished or aborted by someone else meanwhile: nothing left to sweep
              if (nameOf((error as ScfGracefulError).cause) === 'NoSuchUpload') return false
              throw error
            },
          )
          if (aborted) removed++
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined
        uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined
      } while (keyMarker)
      return removed
    },

    async close() {
      if (!loaded) return
      const state = await loaded.catch(() => undefined)
      loaded = undefined
      if (state?.owned) state.client.destroy()
    },
  }
  return store
}

export interface CosStoreOptions extends Omit<S3StoreOptions, 'bucket' | 'region' | 'endpoint'> {
  /** `name-appid`, e.g. `snapshots-1250000000`. */
  bucket: string
  /** e.g. `ap-guangzhou`. */
  region: string
  /**
   * Overrides `https://cos.<region>.myqcloud.com` (e.g. the internal endpoint, or a local S3 server in tests).
   * @default `https://cos.${region}.myqcloud.com`
   */
  endpoint?: string
}

/**
 * The S3 store preset for Tencent COS. Without `credentials` it reads SCF's temporary credentials from
 * `TENCENTCLOUD_SECRETID`, `TENCENTCLOUD_SECRETKEY` and `TENCENTCLOUD_SESSIONTOKEN` at each request, so it needs no
 * configuration inside a function whose role may write the bucket.
 *
 * @example
 * import { cosStore } from 'scf-graceful/stores/s3'
 * const store = cosStore({ bucket: 'snapshots-1250000000', region: 'ap-guangzhou', prefix: 'my-fn/' })
 */
export function cosStore(options: CosStoreOptions): S3Store {
  if (options === null || typeof options !== 'object') throw invalidOption('options', options, 'an object')
  if (typeof options.bucket !== 'string' || !/^[a-z0-9][a-z0-9-]*-\d{5,}$/.test(options.bucket)) {
    throw invalidOption('bucket', options.bucket, 'a COS bucket "name-appid" such as "snapshots-1250000000"')
  }
  if (typeof options.region !== 'string' || !/^[a-z]+(-[a-z]+)+(-\d+)?$/.test(options.region)) {
    throw invalidOption('region', options.region, 'a COS region such as "ap-guangzhou"')
  }
  return s3Store({
    ...options,
    endpoint: options.endpoint ?? `https://cos.${options.region}.myqcloud.com`,
    // COS wants virtual-hosted URLs (bucket-appid.cos.<region>.myqcloud.com); an overridden endpoint (a local
    // S3 server) usually wants path style, as in s3Store
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    credentials: options.credentials ?? credentialsFromEnv,
  })
}

/** SCF's role credentials, read at request time (the runtime rotates them). */
async function credentialsFromEnv(): Promise<S3Credentials> {
  const accessKeyId = process.env.TENCENTCLOUD_SECRETID
  const secretAccessKey = process.env.TENCENTCLOUD_SECRETKEY
  const sessionToken = process.env.TENCENTCLOUD_SESSIONTOKEN || undefined
  if (!accessKeyId || !secretAccessKey) {
    throw new ScfGracefulError('SCFG_ERR_STORE_AUTH', 'cosStore: no credentials given and TENCENTCLOUD_SECRETID / TENCENTCLOUD_SECRETKEY are not set (give the function a role, or pass `credentials`)')
  }
  // read per request and rotated by SCF: keep only the recent ones
  registerSecret(secretAccessKey, { rotating: true })
  registerSecret(sessionToken, { rotating: true })
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey }
}

function timeoutError(what: string, ms: number): Error {
  return Object.assign(new Error(`no answer within ${ms} ms (${what})`), { name: 'TimeoutError', code: 'ETIMEDOUT' })
}

function networkDetail(error: unknown, name: string): string {
  const e = error as { message?: unknown; code?: unknown }
  const message = typeof e?.message === 'string' ? e.message : ''
  if (message && message !== name) return ` ${message.length > 200 ? `${message.slice(0, 200)}…` : message}`
  return typeof e?.code === 'string' && e.code !== name ? ` ${e.code}` : ''
}

/**
 * Runs one attempt with its own AbortSignal: the caller's abort is forwarded, and after `ms` without an answer the
 * attempt is aborted and fails with a retryable TimeoutError, whatever the HTTP handler does with its own timeouts.
 * The timer is ref'd on purpose: the attempt is in flight (issue 10: an unref'd wait let Node exit 0 mid-operation).
 */
function attempt<T>(ms: number, outer: AbortSignal | undefined, what: string, run: (signal: AbortSignal) => Promise<T>, hold?: (release: () => void) => void): Promise<T> {
  const controller = new AbortController()
  const forward = () => controller.abort(outer!.reason)
  const release = () => outer?.removeEventListener('abort', forward)
  if (outer?.aborted) controller.abort(outer.reason)
  else outer?.addEventListener('abort', forward, { once: true })
  let timer: NodeJS.Timeout | undefined
  const running = run(controller.signal)
  const bounded = ms > 0
    ? Promise.race([
        running,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const error = timeoutError(what, ms)
            controller.abort(error)
            reject(error)
          }, ms)
        }),
      ])
    : running
  // the losing side of the race must not become an unhandled rejection
  running.catch(() => {})
  return bounded.then(
    (value) => {
      clearTimeout(timer)
      if (hold) hold(release)
      else release()
      return value
    },
    (error: unknown) => {
      clearTimeout(timer)
      release()
      throw error
    },
  )
}

/**
 * Wraps a response body: a connection that breaks mid-read surfaces as a store error, a body that sends nothing
 * for `idleMs` fails (the clock stops while the consumer holds a piece), and `release` runs when reading ends.
 */
async function* guardBody(body: AsyncIterable<Uint8Array> | undefined, idleMs: number, what: string, mapError: (error: unknown) => unknown, release: () => void): AsyncIterable<Uint8Array> {
  if (!body) return release()
  const iterator = body[Symbol.asyncIterator]()
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined
      let next: IteratorResult<Uint8Array>
      try {
        next = await Promise.race([
          iterator.next(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(timeoutError(what, idleMs)), idleMs)
          }),
        ])
      } finally {
        clearTimeout(timer)
      }
      if (next.done) return
      yield next.value
    }
  } catch (error) {
    ;(body as { destroy?: (error?: Error) => void }).destroy?.()
    throw mapError(error)
  } finally {
    release()
    // a consumer that stops early: close the response so its socket goes back to the pool (or away)
    await iterator.return?.()?.catch?.(() => {})
  }
}
