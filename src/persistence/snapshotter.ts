import { tmpdir } from 'node:os'
import { isAbsolute, resolve } from 'node:path'
import { invalidOption } from '../errors.js'
import { type Logger, safeLogger } from '../log.js'
import type { OperationOptions, SnapshotContext } from './context.js'
import { compileFilter, type PathFilter } from './filter.js'
import { prune, type PruneResult } from './gc.js'
import { idTime, KEY_PATTERN, manifestIdOf, manifestsPrefix } from './layout.js'
import { readRef } from './refs.js'
import { restoreSnapshot, type RestoreResult } from './restore.js'
import { takeSnapshot, type SnapshotResult } from './snapshot.js'
import type { SnapshotStore } from './store.js'

export interface SnapshotterOptions {
  /** Where snapshots go: `fsStore({ dir })`, `memoryStore()`, `s3Store(...)`, `redisStore(...)`. */
  store: SnapshotStore
  /**
   * The directory to snapshot and restore into.
   * @default '/tmp' when TENCENTCLOUD_RUNENV === 'SCF', else os.tmpdir()
   */
  root?: string
  /**
   * Names this snapshot line in the store: segments of letters, digits, '.', '_' and '-', separated by '/',
   * each starting with a letter or digit. Use one key per job to give each job its own state.
   * @default `${SCF_NAMESPACE ?? 'default'}/${SCF_FUNCTIONNAME ?? 'local'}`
   */
  key?: string
  /** Only files (and links) matching are kept; globs match the path relative to root. @default everything */
  include?: PathFilter
  /** Matching files and directories (with their subtree) are skipped. @default nothing */
  exclude?: PathFilter
  /** Files read or written, and chunks uploaded, at once. @default 4 */
  concurrency?: number
  /** Where warnings go (a vanished file, a symlink skipped). @default console */
  logger?: Logger | false
}

export interface SnapshotInfo {
  id: string
  createdAt: Date
  /** True for the snapshot the key's ref points at (what restore would restore). */
  current: boolean
}

export interface Snapshotter {
  readonly root: string
  readonly key: string
  /** Snapshots root and commits it as the key's current snapshot. */
  snapshot(options?: OperationOptions): Promise<SnapshotResult>
  /** Restores the key's current snapshot into root; SCFG_ERR_SNAPSHOT_NOT_FOUND when there is none. */
  restore(options?: OperationOptions): Promise<RestoreResult>
  /** The key's snapshots, newest first. */
  list(options?: { signal?: AbortSignal }): Promise<SnapshotInfo[]>
  /**
   * Deletes all but the newest `keepLast` snapshots of the key, then chunks nothing references, then what crashed
   * processes left (the store's temp objects older than an hour, stale leases and locks). Deletes nothing while a
   * snapshot or restore runs anywhere on the store (`swept: false`).
   */
  prune(options: { keepLast: number; signal?: AbortSignal }): Promise<PruneResult>
}

/** The default root: SCF's only writable directory on SCF, the OS temp dir elsewhere. */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.TENCENTCLOUD_RUNENV === 'SCF' ? '/tmp' : tmpdir()
}

/** The default key: one snapshot line per function. */
export function defaultKey(env: NodeJS.ProcessEnv = process.env): string {
  return `${env.SCF_NAMESPACE || 'default'}/${env.SCF_FUNCTIONNAME || 'local'}`
}

export function isSnapshotStore(value: unknown): value is SnapshotStore {
  const s = value as SnapshotStore
  return typeof s === 'object' && s !== null && ['put', 'get', 'has', 'list', 'delete'].every((m) => typeof (s as unknown as Record<string, unknown>)[m] === 'function')
}

export function resolveContext(options: SnapshotterOptions, prefix = ''): SnapshotContext {
  if (typeof options !== 'object' || options === null) throw invalidOption(`${prefix}options`, options, 'an object')
  if (!isSnapshotStore(options.store)) throw invalidOption(`${prefix}store`, options.store, 'a SnapshotStore (put/get/has/list/delete)')
  const root = options.root ?? defaultRoot()
  if (typeof root !== 'string' || root.length === 0 || root.includes('\0')) throw invalidOption(`${prefix}root`, root, 'a directory path')
  const key = options.key ?? defaultKey()
  if (typeof key !== 'string' || key.length > 512 || !KEY_PATTERN.test(key)) {
    throw invalidOption(`${prefix}key`, key, "segments of letters, digits, '.', '_', '-' separated by '/', each starting with a letter or digit")
  }
  const concurrency = options.concurrency ?? 4
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw invalidOption(`${prefix}concurrency`, concurrency, 'an integer from 1 to 64')
  return {
    store: options.store,
    root: isAbsolute(root) ? root : resolve(root),
    key,
    include: compileFilter(`${prefix}include`, options.include),
    exclude: compileFilter(`${prefix}exclude`, options.exclude),
    concurrency,
    logger: safeLogger(options.logger),
  }
}

/**
 * Incremental, crash-safe snapshots of a directory tree into a store.
 *
 * @example
 * import { createSnapshotter } from 'scf-graceful/persistence'
 * import { fsStore } from 'scf-graceful/stores/fs'
 * const snap = createSnapshotter({ store: fsStore({ dir: '/mnt/cfs/state' }), key: 'jobs/resize-42' })
 * await snap.restore().catch((err) => { if (err.code !== 'SCFG_ERR_SNAPSHOT_NOT_FOUND') throw err })
 * // ... work in /tmp ...
 * await snap.snapshot({ signal: AbortSignal.timeout(5000) })
 */
export function createSnapshotter(options: SnapshotterOptions): Snapshotter {
  const ctx = resolveContext(options)
  return {
    root: ctx.root,
    key: ctx.key,
    snapshot: (opts) => takeSnapshot(ctx, opts),
    restore: (opts) => restoreSnapshot(ctx, opts),
    async list(opts = {}) {
      const head = await readRef(ctx.store, ctx.key, opts.signal)
      const ids: string[] = []
      for await (const k of ctx.store.list(manifestsPrefix(ctx.key), { signal: opts.signal })) {
        const id = manifestIdOf(k)
        if (id) ids.push(id)
      }
      return ids.sort().reverse().map((id) => ({ id, createdAt: idTime(id), current: id === head }))
    },
    prune(opts) {
      const keepLast = (opts as { keepLast?: unknown } | undefined)?.keepLast
      if (!Number.isInteger(keepLast) || (keepLast as number) < 1) throw invalidOption('keepLast', keepLast, 'an integer >= 1')
      return prune(ctx.store, { key: ctx.key, keepLast: keepLast as number, signal: opts.signal })
    },
  }
}
