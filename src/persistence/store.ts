/**
 * The store contract: what a snapshot needs from a place to keep bytes. Every store (memory, fs, s3, redis)
 * implements it and passes the one conformance suite in `test/stores/conformance.ts`.
 */

import { ScfGracefulError } from '../errors.js'

/** A value to store: bytes in memory, or a stream of them (a Node Readable is one). */
export type StoreBody = Uint8Array | AsyncIterable<Uint8Array>

export interface StoreOperationOptions {
  /** Aborts the operation (the shutdown deadline); it then rejects with `signal.reason`. */
  signal?: AbortSignal
}

export interface StorePutOptions extends StoreOperationOptions {
  /** Byte length of a streamed body when known (object stores need it for a single PUT). */
  size?: number
}

/**
 * A flat key space of immutable-ish blobs.
 * - `put` is atomic: a reader sees the old value or the new one, never a part.
 * - Keys are `/`-separated, relative, without `..`, NUL or empty segments (else SCFG_ERR_STORE_KEY_INVALID).
 * - Unreachable servers reject with SCFG_ERR_STORE_UNAVAILABLE, bad credentials with SCFG_ERR_STORE_AUTH.
 */
export interface SnapshotStore {
  /** A short name for logs: 'memory', 'fs', 's3', 'redis'. Never contains credentials. */
  readonly kind: string
  put(key: string, body: StoreBody, options?: StorePutOptions): Promise<void>
  /** The value as a stream of bytes, or `undefined` when the key does not exist. */
  get(key: string, options?: StoreOperationOptions): Promise<AsyncIterable<Uint8Array> | undefined>
  has(key: string, options?: StoreOperationOptions): Promise<boolean>
  /**
   * Optional fast path for stores that can read a value straight into memory the caller owns (fsStore): reads the
   * value into `into` and resolves with the value's size, or `undefined` when the key does not exist. When the
   * size exceeds `into.byteLength`, no more than `into.byteLength` bytes are read and the caller must treat the value
   * as wrong. Restore uses it instead of `get` to skip stream machinery and a copy per chunk. It may block the
   * event loop for one value's read (fsStore's does: a chunk is at most 4 MiB, and restore hashes it synchronously
   * right after anyway).
   */
  readInto?(key: string, into: Uint8Array, options?: StoreOperationOptions): Promise<number | undefined>
  /** Every key that starts with `prefix` (in any order). */
  list(prefix: string, options?: StoreOperationOptions): AsyncIterable<string>
  /** Deletes the keys; keys that do not exist are ignored. */
  delete(keys: string | readonly string[], options?: StoreOperationOptions): Promise<void>
  /**
   * When the store keeps its bytes in a local directory (fsStore), that directory's absolute path: a snapshot
   * whose root contains it skips it, so a store never snapshots itself.
   */
  readonly localDir?: string
  /**
   * Optional: removes the store's own temp objects older than `olderThanMs` (what a killed put leaves: fsStore's temp
   * files, an S3 multipart upload never completed, a Redis temp key) and resolves with how many. A younger one may
   * belong to a put still running and is kept. `prune` calls it.
   */
  sweepTemp?(olderThanMs: number, options?: StoreOperationOptions): Promise<number>
  /** Releases connections the store opened itself (never a client that was passed in). */
  close?(): Promise<void>
}

/**
 * Checks a store key against the contract (relative, `/`-separated, no empty / `.` / `..` segments, no NUL or
 * backslash, at most 1024 bytes) and throws SCFG_ERR_STORE_KEY_INVALID otherwise. Stores call it first.
 */
export function assertStoreKey(key: unknown): asserts key is string {
  const bad = (why: string) => new ScfGracefulError('SCFG_ERR_STORE_KEY_INVALID', `invalid store key ${JSON.stringify(String(key).slice(0, 80))}: ${why}`)
  if (typeof key !== 'string' || key.length === 0) throw bad('must be a non-empty string')
  if (Buffer.byteLength(key) > 1024) throw bad('longer than 1024 bytes')
  if (key.includes('\0')) throw bad('contains NUL')
  if (key.includes('\\')) throw bad('contains a backslash')
  if (key.startsWith('/')) throw bad('is absolute')
  for (const segment of key.split('/')) {
    if (segment === '') throw bad('has an empty segment')
    if (segment === '.' || segment === '..') throw bad(`has a "${segment}" segment`)
  }
}
