/**
 * The Redis store. `ioredis` is an optional peer dependency, imported on the first operation. Values are binary
 * (Buffers), listing uses SCAN (never KEYS), an optional TTL lets abandoned state expire.
 */
import type { Cluster, Redis, RedisOptions } from 'ioredis'
import { randomBytes } from 'node:crypto'
import { ScfGracefulError, importPeer, invalidOption } from '../errors.js'
import { redact, registerSecret } from '../log.js'
import type { SnapshotStore, StoreBody, StoreOperationOptions, StorePutOptions } from '../persistence/store.js'
import { assertKey, assertListPrefix, keyList, normalizePrefix } from './internal/keys.js'
import { intOption, isBytesBody } from './internal/options.js'
import { raceSignal } from './internal/retry.js'
import { installAbortCompat } from '../compat/abort.js'

export interface RedisStoreOptions {
  /**
   * A ready ioredis client, `Redis` or `Cluster`. The store never closes it. On a cluster, a streamed put's temp key
   * shares its final key's hash slot, `list` scans every master and `delete` goes key by key.
   */
  client?: RedisStoreClient
  /** e.g. `redis://:password@127.0.0.1:6379/0` (`rediss://` for TLS). Used when no `client` is given. */
  url?: string
  /**
   * Prepended to every key as is (add your own separator).
   * @default ''
   */
  prefix?: string
  /** Every value written expires after this many seconds, so abandoned state goes away. @default no expiry */
  ttlSeconds?: number
  /** A command without an answer for this long fails (a hung server). Clients this store builds only. @default 10000 */
  commandTimeoutMs?: number
  /** @default 5000 */
  connectTimeoutMs?: number
  /**
   * Reconnect attempts a command waits through before it fails with SCFG_ERR_STORE_UNAVAILABLE (ioredis would
   * otherwise wait forever). Clients this store builds only.
   * @default 2
   */
  maxRetriesPerRequest?: number
}

export interface RedisStoreInstance extends SnapshotStore {
  readonly kind: 'redis'
  readonly prefix: string
  /** Closes the connections this store opened (never a client that was passed in). */
  close(): Promise<void>
}

type IORedisModule = { Redis?: new (url: string, options: RedisOptions) => Redis; default?: new (url: string, options: RedisOptions) => Redis }
/** What the store talks to: a single server, or a cluster. */
export type RedisStoreClient = Redis | Cluster

// a streamed value goes to a temp key first; these never show in list() (a valid store key has no NUL)
const TEMP_MARK = '\0tmp\0'
const TEMP_TTL_SECONDS = 3600
const APPEND_BYTES = 1024 * 1024
const APPENDS_IN_FLIGHT = 8
const READ_SLICE = 1024 * 1024
const CLUSTER_DELETES_IN_FLIGHT = 64

/**
 * Builds a store over Redis: a single server (from `url` or `client`), or a Redis Cluster (pass a `Cluster` client).
 *
 * `put` of bytes is one `SET`; `put` of a stream appends it to a temp key (bounded memory, pipelined `APPEND`s) and
 * `RENAME`s it into place in a `MULTI`, so readers see the old value or the new one. `get` reads the whole value
 * with one `GET` (values are at most 512 MB in Redis; the snapshot engine writes chunks of a few MiB).
 *
 * @example
 * import { redisStore } from 'scf-graceful/stores/redis'
 * const store = redisStore({ url: process.env.REDIS_URL, prefix: 'my-fn:', ttlSeconds: 7 * 24 * 3600 })
 */
export function redisStore(options: RedisStoreOptions): RedisStoreInstance {
  // Node 16.13 (SCF's Nodejs16.13): AbortSignal without reason/throwIfAborted, which this code relies on
  installAbortCompat()
  if (options === null || typeof options !== 'object') throw invalidOption('options', options, 'an object')
  const passed = options.client
  if (passed !== undefined && (typeof passed !== 'object' || passed === null || typeof (passed as Redis).getBuffer !== 'function')) {
    throw invalidOption('client', passed, 'an ioredis client')
  }
  if (passed === undefined && (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url))) {
    // never echo a password that came inside the URL
    const shown = typeof options.url === 'string' ? options.url.replace(/\/\/[^@/]*@/, '//***@') : options.url
    throw invalidOption('url', shown, 'a redis:// or rediss:// URL (or pass `client`)')
  }
  if (options.url) {
    try {
      registerSecret(decodeURIComponent(new URL(options.url).password))
    } catch {
      throw invalidOption('url', '(unparsable URL)', 'a redis:// or rediss:// URL')
    }
  }
  const prefix = normalizePrefix(options.prefix)
  const ttl = options.ttlSeconds
  if (ttl !== undefined && (!Number.isSafeInteger(ttl) || ttl <= 0)) throw invalidOption('ttlSeconds', ttl, 'a positive whole number of seconds')
  const commandTimeout = intOption('commandTimeoutMs', options.commandTimeoutMs, 10_000, 1)
  const connectTimeout = intOption('connectTimeoutMs', options.connectTimeoutMs, 5000, 1)
  const maxRetriesPerRequest = intOption('maxRetriesPerRequest', options.maxRetriesPerRequest, 2, 0)

  let loaded: Promise<RedisStoreClient> | undefined
  let created: Redis | undefined
  const load = () =>
    (loaded ??= (async () => {
      if (passed) return passed
      const mod = await importPeer<IORedisModule>('ioredis', 'redisStore')
      const RedisClass = mod.Redis ?? mod.default
      if (!RedisClass) throw new ScfGracefulError('SCFG_ERR_MISSING_DEPENDENCY', 'redisStore: the installed ioredis exports no Redis class')
      created = new RedisClass(options.url!, {
        lazyConnect: true,
        connectTimeout,
        commandTimeout,
        maxRetriesPerRequest,
        // keep reconnecting in the background (the server may come back); each command is bounded by maxRetriesPerRequest
        retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), 2000),
      })
      // without a listener ioredis prints every reconnect failure; the failing command carries the error instead
      created.on('error', () => {})
      return created
    })().catch((error) => {
      loaded = undefined
      throw error
    }))

  const fail = (error: unknown, op: string, key: string | undefined, signal: AbortSignal | undefined): unknown => {
    if (signal?.aborted) return signal.reason
    if (error instanceof ScfGracefulError) return error
    const message = redact(String((error as Error)?.message ?? error))
    const what = `redis ${op} ${prefix}${key ?? ''}: ${message}`
    if (/^(WRONGPASS|NOAUTH|NOPERM)/.test(message) || /invalid (username-)?password/i.test(message)) {
      return new ScfGracefulError('SCFG_ERR_STORE_AUTH', `${what} (the server rejected the credentials)`, { cause: error })
    }
    return new ScfGracefulError('SCFG_ERR_STORE_UNAVAILABLE', what, { cause: error })
  }

  const run = async <T>(op: string, key: string | undefined, signal: AbortSignal | undefined, command: (client: RedisStoreClient) => Promise<T>): Promise<T> => {
    signal?.throwIfAborted()
    try {
      const client = await load()
      return await raceSignal(command(client), signal)
    } catch (error) {
      throw fail(error, op, key, signal)
    }
  }

  const putStream = async (key: string, body: AsyncIterable<Uint8Array>, signal: AbortSignal | undefined) => {
    const full = prefix + key
    const temp = tempKeyFor(full)
    const inFlight = new Set<Promise<unknown>>()
    let failure: unknown
    let started = false
    let pending: Uint8Array[] = []
    let pendingBytes = 0
    const send = async (client: RedisStoreClient) => {
      const buf = Buffer.concat(pending, pendingBytes)
      pending = []
      pendingBytes = 0
      // the first write creates the temp key with a TTL, so a writer that dies leaves nothing behind for long
      const write = started ? client.append(temp, buf) : client.set(temp, buf, 'EX', TEMP_TTL_SECONDS)
      started = true
      const p: Promise<unknown> = write.then(
        () => inFlight.delete(p),
        (error: unknown) => {
          failure ??= error
          inFlight.delete(p)
        },
      )
      inFlight.add(p)
      if (inFlight.size >= APPENDS_IN_FLIGHT) await raceSignal(Promise.race(inFlight), signal)
      if (failure) throw failure
    }
    signal?.throwIfAborted()
    let client: RedisStoreClient
    try {
      client = await load()
    } catch (error) {
      throw fail(error, 'put', key, signal)
    }
    const work = (async () => {
      for await (const piece of body) {
        signal?.throwIfAborted()
        pending.push(piece)
        pendingBytes += piece.byteLength
        if (pendingBytes >= APPEND_BYTES) await send(client)
      }
      if (pendingBytes > 0 || !started) await send(client)
      await raceSignal(Promise.all(inFlight), signal)
      if (failure) throw failure
      const tx = client.multi().rename(temp, full)
      if (ttl) tx.expire(full, ttl)
      else tx.persist(full)
      const results = await tx.exec()
      const txError = results?.find(([error]) => error)?.[0]
      if (txError) throw txError
      if (!results) throw new ScfGracefulError('SCFG_ERR_STORE_UNAVAILABLE', `redis put ${full}: the MULTI that renames the temp key into place was discarded`)
    })()
    try {
      await raceSignal(work, signal)
    } catch (error) {
      // clean up only once the writer has stopped: one connection keeps order, so no APPEND can land after the
      // DEL and recreate the temp key without its TTL
      void work.catch(() => {}).finally(() => {
        if (started) client.del(temp).catch(() => {})
      })
      throw fail(error, 'put', key, signal)
    }
  }

  /**
   * Every key matching one of `patterns`, each once (SCAN may return a key twice across pages), with the node that
   * holds it: a cluster keeps each key on one master, so SCAN them all (a Cluster client would ask just one).
   */
  async function* scanKeys(op: string, key: string | undefined, patterns: readonly string[], signal: AbortSignal | undefined): AsyncGenerator<{ node: Redis; full: string }> {
    const nodes: Redis[] = await run(op, key, signal, async (client) => (isCluster(client) ? masters(client) : [client]))
    const seen = new Set<string>()
    for (const node of nodes) {
      for (const pattern of patterns) {
        let cursor = '0'
        do {
          const [next, keys] = await run(op, key, signal, () => node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000))
          cursor = next
          for (const full of keys) {
            if (seen.has(full)) continue
            seen.add(full)
            yield { node, full }
          }
        } while (cursor !== '0')
      }
    }
  }

  return {
    kind: 'redis',
    prefix,

    async put(key: string, body: StoreBody, opts: StorePutOptions = {}) {
      assertKey(key)
      const { signal } = opts
      if (!isBytesBody(body)) return putStream(key, body, signal)
      const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
      await run('put', key, signal, (client) => (ttl ? client.set(prefix + key, buf, 'EX', ttl) : client.set(prefix + key, buf)))
    },

    async get(key: string, opts: StoreOperationOptions = {}) {
      assertKey(key)
      const value = await run('get', key, opts.signal, (client) => client.getBuffer(prefix + key))
      if (value === null) return undefined
      return slices(value)
    },

    async has(key: string, opts: StoreOperationOptions = {}) {
      assertKey(key)
      return (await run('has', key, opts.signal, (client) => client.exists(prefix + key))) === 1
    },

    async *list(listPrefix: string, opts: StoreOperationOptions = {}) {
      assertListPrefix(listPrefix)
      for await (const { full } of scanKeys('list', listPrefix, [`${escapeGlob(prefix + listPrefix)}*`], opts.signal)) {
        if (!full.includes(TEMP_MARK)) yield full.slice(prefix.length)
      }
    },

    async delete(keys: string | readonly string[], opts: StoreOperationOptions = {}) {
      const list = keyList(keys)
      if (list.length === 0) return
      await run('delete', list[0], opts.signal, async (client) => {
        if (isCluster(client)) {
          // a multi-key UNLINK must stay in one hash slot on a cluster: one key per command, a bounded number at once
          for (let i = 0; i < list.length; i += CLUSTER_DELETES_IN_FLIGHT) {
            await Promise.all(list.slice(i, i + CLUSTER_DELETES_IN_FLIGHT).map((key) => client.unlink(prefix + key)))
          }
          return
        }
        const pipeline = client.pipeline()
        for (let i = 0; i < list.length; i += 1000) pipeline.unlink(...list.slice(i, i + 1000).map((key) => prefix + key))
        const results = await pipeline.exec()
        const error = results?.find(([e]) => e)?.[0]
        if (error) throw error
      })
    },

    // a temp key is created with TEMP_TTL_SECONDS and expires on its own; its age is what its TTL has used up
    async sweepTemp(olderThanMs: number, opts: StoreOperationOptions = {}) {
      const { signal } = opts
      const patterns = [`${escapeGlob(prefix)}*${TEMP_MARK}*`, `{${escapeGlob(prefix)}*${TEMP_MARK}*`]
      let removed = 0
      for await (const { node, full } of scanKeys('sweep', undefined, patterns, signal)) {
        const ttl = await run('sweep', undefined, signal, () => node.ttl(full))
        // -2: gone meanwhile; -1: no TTL (never made by this store's puts, which always set one): stale
        if (ttl === -2 || (ttl >= 0 && (TEMP_TTL_SECONDS - ttl) * 1000 < olderThanMs)) continue
        removed += await run('sweep', undefined, signal, () => node.unlink(full))
      }
      return removed
    },

    async close() {
      const client = created
      loaded = undefined
      created = undefined
      if (!client) return
      // QUIT waits for pending replies; a dead server must not hold close() up
      const timer = setTimeout(() => client.disconnect(), 2000)
      timer.unref()
      await client.quit().catch(() => client.disconnect())
      clearTimeout(timer)
    },
  }
}

function isCluster(client: RedisStoreClient): client is Cluster {
  return (client as Cluster).isCluster === true
}

/** The cluster's masters. A client still connecting knows none yet: a command first (queued until ready). */
async function masters(client: Cluster): Promise<Redis[]> {
  if (client.status !== 'ready') await client.ping()
  const nodes = client.nodes('master')
  if (nodes.length === 0) throw new ScfGracefulError('SCFG_ERR_STORE_UNAVAILABLE', 'redis list: the cluster client knows no master node')
  return nodes
}

/**
 * The temp key of a streamed put: `RENAME` needs it in its final key's hash slot on a cluster. A key with a hash tag
 * (`{...}`) shares the tag as a prefix; a key without one is hashed whole, so the temp key tags itself with the
 * whole key. Only a key with a `}` but no valid tag cannot be matched (it gets CROSSSLOT on a cluster).
 */
function tempKeyFor(full: string): string {
  const suffix = `${TEMP_MARK}${randomBytes(8).toString('hex')}`
  const open = full.indexOf('{')
  const hasTag = open !== -1 && full.indexOf('}', open + 1) > open + 1
  if (hasTag || full.includes('}')) return `${full}${suffix}`
  return `{${full}}${suffix}`
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

async function* slices(value: Buffer): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < value.byteLength; offset += READ_SLICE) yield value.subarray(offset, offset + READ_SLICE)
}
