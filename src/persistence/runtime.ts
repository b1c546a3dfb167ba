// What graceful() and the adapters drive: restore before the first invocation (retried, and never snapshotted over
// when it did not complete), checkpoints on demand and on an interval (never two at once, coalesced), and the final
// flush under the shutdown deadline.
import { lstat, readdir, realpath, rmdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { invalidOption, ScfGracefulError } from '../errors.js'
import { fields, type Logger } from '../log.js'
import type { PathFilter } from './filter.js'
import type { ManifestEntry } from './manifest.js'
import { resolveContext } from './snapshotter.js'
import { restoreSnapshot } from './restore.js'
import { takeSnapshot } from './snapshot.js'
import type { SnapshotStore } from './store.js'

export interface PersistOptions {
  /** Where the snapshots go. */
  store: SnapshotStore
  /** @default `${SCF_NAMESPACE ?? 'default'}/${SCF_FUNCTIONNAME ?? 'local'}` */
  key?: string
  /** @default '/tmp' on SCF, os.tmpdir() elsewhere */
  root?: string
  /** Restore the last snapshot before the first invocation runs. @default true */
  restoreOnStart?: boolean
  /**
   * What happens when the start-up restore still fails after its retries (3 attempts, 0.25 s and 1 s apart).
   * - `'fail'`: the invocation fails with SCFG_ERR_RESTORE_FAILED and the handler does not run; no checkpoint or
   *   flush is taken of the half-restored root, so the store's snapshot is kept; the next invocation tries again.
   * - `'start-fresh'`: every path of the snapshot the restore may have written is removed from root, the handler
   *   runs on what is left, and later snapshots replace the one in the store (which stays there until then).
   * @default 'fail'
   */
  onRestoreError?: RestoreErrorPolicy
  /** Take a checkpoint every this many ms while the process runs; 0 = never. @default 0 */
  checkpointIntervalMs?: number
  include?: PathFilter
  exclude?: PathFilter
}

export type RestoreErrorPolicy = 'fail' | 'start-fresh'

/**
 * Where the root stands: 'idle' (no restore asked for: snapshots allowed), 'restoring', 'complete' (restored, or
 * nothing to restore), 'incomplete' (the restore failed or was aborted: snapshots refused), 'fresh' (started over
 * after a failed restore, as `onRestoreError: 'start-fresh'` asks: snapshots allowed).
 */
export type RestoreState = 'idle' | 'restoring' | 'complete' | 'incomplete' | 'fresh'

export interface PersistenceRuntime {
  /**
   * Makes the root a complete copy of the last snapshot: up to 3 attempts (a store blip, a dropped connection). A
   * call while one runs gets the same promise; once complete, later calls resolve at once; after a failure the next
   * call tries again. No snapshot yet is fine (logged). Rejects with SCFG_ERR_RESTORE_FAILED (the last error as
   * `cause`) unless `onRestoreError` is 'start-fresh'. An aborted signal stops it (no more attempts).
   */
  restore(signal?: AbortSignal): Promise<void>
  readonly restoreState: RestoreState
  /**
   * Never two at once: calls during a running checkpoint coalesce into one follow-up. Refused (SCFG_ERR_RESTORE_FAILED)
   * while the root is not completely restored: a half-restored tree must never replace the good snapshot.
   */
  checkpoint(signal?: AbortSignal): Promise<void>
  /** The final flush: waits for a running checkpoint, then snapshots; aborts cleanly at the signal. Refused as checkpoint(). */
  flush(signal: AbortSignal): Promise<void>
  /** Periodic checkpoints every checkpointIntervalMs (unref'd timer, no overlap); not while the root is incomplete. */
  startInterval(): void
  stopInterval(): void
}

/**
 * @example
 * const persistence = createPersistenceRuntime({ store, checkpointIntervalMs: 30_000 }, { logger })
 * await persistence.restore()
 * persistence.startInterval()
 * // on SIGTERM, after the handler settled:
 * await persistence.flush(deadlineSignal)
 */
export function createPersistenceRuntime(options: PersistOptions, deps: { logger: Logger }): PersistenceRuntime {
  if (typeof options !== 'object' || options === null) throw invalidOption('persist', options, 'an object')
  const ctx = resolveContext({ store: options.store, root: options.root, key: options.key, include: options.include, exclude: options.exclude, logger: deps.logger }, 'persist.')
  const restoreOnStart = options.restoreOnStart ?? true
  if (typeof restoreOnStart !== 'boolean') throw invalidOption('persist.restoreOnStart', restoreOnStart, 'a boolean')
  const policy = options.onRestoreError ?? 'fail'
  if (policy !== 'fail' && policy !== 'start-fresh') throw invalidOption('persist.onRestoreError', policy, '"fail" or "start-fresh"')
  const intervalMs = options.checkpointIntervalMs ?? 0
  if (typeof intervalMs !== 'number' || !Number.isInteger(intervalMs) || intervalMs < 0) throw invalidOption('persist.checkpointIntervalMs', intervalMs, 'an integer >= 0 (0 = off)')
  const logger = deps.logger
  const where = { key: ctx.key, root: ctx.root, store: ctx.store.kind }

  let state: RestoreState = 'idle'
  let restoring: Promise<void> | undefined
  let running: Promise<void> | undefined
  let followUp: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined
  const stopInterval = () => {
    if (timer) clearInterval(timer)
    timer = undefined
  }

  const runSnapshot = async (phase: 'checkpoint' | 'flush', signal?: AbortSignal) => {
    if (state === 'restoring' || state === 'incomplete') {
      // the rule this whole runtime exists for: a root that is not a complete restore never replaces the snapshot
      const error = new ScfGracefulError('SCFG_ERR_RESTORE_FAILED', `${phase} refused: the root was not completely restored from key "${ctx.key}"; the snapshot in the store is kept`, { details: { key: ctx.key } })
      logger.error(`persist: ${phase} refused ${fields({ code: error.code, key: ctx.key })}: the root was not completely restored, the snapshot in the store is kept`)
      throw error
    }
    logger.info(`persist: ${phase} start ${fields(where)}`)
    try {
      const r = await takeSnapshot(ctx, { signal })
      logger.info(`persist: ${phase} done ${fields({ id: r.id, committed: r.committed, files: r.files, bytes: r.bytes, uploadedBytes: r.uploadedBytes, unchangedFiles: r.unchangedFiles, ms: r.durationMs })}`)
    } catch (err) {
      const code = (err as ScfGracefulError).code
      logger.error(`persist: ${phase} failed ${fields({ code, key: ctx.key })}: ${(err as Error).message}`)
      throw err
    }
  }

  /** Never snapshot a half-restored tree: a snapshot waits for a running restore (bounded by its signal), then checks the state. */
  const afterRestore = (signal?: AbortSignal): Promise<void> =>
    restoring ? waitBounded(restoring.catch(() => {}), signal) : Promise.resolve()

  const checkpoint = (signal?: AbortSignal): Promise<void> => {
    if (!running) {
      running = afterRestore(signal)
        .then(() => runSnapshot('checkpoint', signal))
        .finally(() => { running = undefined })
      return running
    }
    // one follow-up for everyone who asked while a checkpoint ran: it sees all their changes
    followUp ??= running.catch(() => {}).then(() => {
      followUp = undefined
      return checkpoint(signal)
    })
    return followUp
  }

  const runRestore = async (signal?: AbortSignal): Promise<void> => {
    if (!restoreOnStart) {
      state = 'complete'
      return
    }
    state = 'restoring'
    // every path a manifest named, over all attempts: what starting over must remove
    const named = new Map<string, ManifestEntry['type']>()
    const onManifest = (entries: readonly ManifestEntry[]) => {
      for (const e of entries) named.set(e.path, e.type)
    }
    let lastError: unknown
    let attempts = 0
    while (attempts < RESTORE_ATTEMPTS) {
      attempts += 1
      logger.info(`persist: restore start ${fields({ ...where, attempt: attempts })}`)
      try {
        const r = await restoreSnapshot(ctx, { signal, onManifest })
        logger.info(`persist: restore done ${fields({ id: r.id, files: r.files, bytes: r.bytes, ms: r.durationMs })}`)
        state = 'complete'
        return
      } catch (err) {
        const code = (err as ScfGracefulError)?.code
        if (code === 'SCFG_ERR_SNAPSHOT_NOT_FOUND') {
          logger.info(`persist: nothing to restore ${fields({ key: ctx.key })}`)
          state = 'complete'
          return
        }
        lastError = err
        const retry = attempts < RESTORE_ATTEMPTS && !signal?.aborted && !FINAL_CODES.has(code)
        logger[retry ? 'warn' : 'error'](`persist: restore failed ${fields({ code, key: ctx.key, attempt: attempts, retry })}: ${(err as Error)?.message ?? String(err)}`)
        if (!retry || !(await pause(RESTORE_BACKOFF_MS[attempts - 1] ?? 1000, signal))) break
      }
    }
    if (policy === 'start-fresh' && !signal?.aborted) {
      try {
        const removed = await removeRestored(ctx.root, named)
        state = 'fresh'
        logger.warn(`persist: starting fresh (onRestoreError=start-fresh) ${fields({ key: ctx.key, removed })}: the restore failed; the snapshot in the store stays until the next snapshot replaces it`)
        return
      } catch (err) {
        logger.error(`persist: could not clear the half-restored root ${fields({ root: ctx.root })}: ${(err as Error)?.message ?? String(err)}`)
        lastError = err
      }
    }
    state = 'incomplete'
    const why = signal?.aborted ? 'was aborted' : `failed after ${attempts} attempt${attempts === 1 ? '' : 's'}`
    throw new ScfGracefulError('SCFG_ERR_RESTORE_FAILED', `the restore of key "${ctx.key}" ${why}: ${(lastError as Error)?.message ?? String(lastError)}; the snapshot in the store is kept and the next invocation tries again`, {
      cause: lastError,
      details: { key: ctx.key, attempts },
    })
  }

  return {
    restore(signal) {
      if (state === 'complete' || state === 'fresh') return Promise.resolve()
      restoring ??= runRestore(signal).finally(() => {
        restoring = undefined
      })
      return restoring
    },
    get restoreState() {
      return state
    },
    checkpoint,
    async flush(signal) {
      stopInterval()
      await afterRestore(signal)
      // let a running checkpoint finish (bounded by the signal): two writers at once would only waste the deadline
      const pending = [running, followUp].filter(Boolean) as Promise<void>[]
      if (pending.length) await waitBounded(Promise.allSettled(pending), signal)
      await runSnapshot('flush', signal)
    },
    startInterval() {
      if (intervalMs === 0 || timer || state === 'restoring' || state === 'incomplete') return
      timer = setInterval(() => {
        // no overlap: skip a tick while one is still running
        if (running) return
        checkpoint().catch(() => {})
      }, intervalMs)
      timer.unref()
    },
    stopInterval,
  }
}

/** Attempts of one restore round, and the waits between them: a store blip passes, a dead store fails in ~1.3 s + timeouts. */
const RESTORE_ATTEMPTS = 3
const RESTORE_BACKOFF_MS = [250, 1000]
/** Errors that another attempt cannot fix. */
const FINAL_CODES = new Set<unknown>(['SCFG_ERR_SNAPSHOT_ABORTED', 'SCFG_ERR_STORE_AUTH', 'SCFG_ERR_STORE_KEY_INVALID', 'SCFG_ERR_INVALID_OPTION', 'SCFG_ERR_MISSING_DEPENDENCY'])

/**
 * Waits `ms` unless the signal aborts first: true when the wait ran out. The timer is not unref'd on purpose: the
 * restore it paces is pending work, and Node would exit 0 in the middle of it.
 */
function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const done = (ranOut: boolean) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      resolve(ranOut)
    }
    const onAbort = () => done(false)
    const timer = setTimeout(() => done(true), ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

const ENGINE_TEMP = /^\.scfg-.*\.tmp$/

/**
 * Starting over: removes from root every path a manifest of the failed restore named (files and links; directories
 * only when empty, since others may have put files there) and the restore's temp files. Deepest paths first; a path
 * below anything but a real directory is left alone, so a symlink in root never leads a removal outside it.
 */
async function removeRestored(rootPath: string, named: ReadonlyMap<string, ManifestEntry['type']>): Promise<number> {
  let root: string
  try {
    root = await realpath(rootPath)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw err
  }
  let removed = 0
  const dirs = new Set<string>([''])
  for (const [p, t] of named) if (t === 'dir') dirs.add(p)
  // temp files first: they sit in the directories below, which must be empty to go
  for (const dir of dirs) {
    if (!(await isRealDirBelow(root, dir))) continue
    let names: string[]
    try {
      names = await readdir(join(root, dir))
    } catch {
      continue
    }
    for (const name of names) {
      if (!ENGINE_TEMP.test(name)) continue
      await unlink(join(root, dir, name)).then(() => removed++, ignoreGone)
    }
  }
  const paths = [...named.keys()].sort((a, b) => b.length - a.length)
  for (const p of paths) {
    const slash = p.lastIndexOf('/')
    if (!(await isRealDirBelow(root, slash === -1 ? '' : p.slice(0, slash)))) continue
    const abs = join(root, p)
    const st = await lstat(abs).catch(() => undefined)
    if (!st) continue
    if (named.get(p) === 'dir') {
      if (st.isDirectory()) await rmdir(abs).then(() => removed++, ignoreGone)
    } else if (!st.isDirectory()) {
      await unlink(abs).then(() => removed++, ignoreGone)
    }
  }
  return removed
}

/** True when root/rel and each directory on the way to it is a real directory (no symlink). */
async function isRealDirBelow(root: string, rel: string): Promise<boolean> {
  if (rel === '') return true
  let at = root
  for (const segment of rel.split('/')) {
    at = join(at, segment)
    const st = await lstat(at).catch(() => undefined)
    if (!st?.isDirectory()) return false
  }
  return true
}

/** A directory that others still use (not empty), or a path already gone: nothing to remove. */
function ignoreGone(err: unknown): void {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
}

/** Resolves when the promise settles or the signal aborts, whichever comes first (the snapshot then reports the abort). */
function waitBounded(promise: Promise<unknown>, signal?: AbortSignal): Promise<void> {
  if (!signal) return promise.then(() => {}, () => {})
  if (signal.aborted) return Promise.resolve()
  return new Promise<void>((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
    promise.then(done, done)
  })
}
