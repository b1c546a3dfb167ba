// What graceful() and the adapters drive: restore once before the first invocation, checkpoints on demand and on
// an interval (never two at once, coalesced), and the final flush under the shutdown deadline.
import { invalidOption, ScfGracefulError } from '../errors.js'
import { fields, type Logger } from '../log.js'
import type { PathFilter } from './filter.js'
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
  /** Take a checkpoint every this many ms while the process runs; 0 = never. @default 0 */
  checkpointIntervalMs?: number
  include?: PathFilter
  exclude?: PathFilter
}

export interface PersistenceRuntime {
  /** Once per process: later calls return the same promise. No snapshot yet is fine (logged). */
  restore(signal?: AbortSignal): Promise<void>
  /** Never two at once: calls during a running checkpoint coalesce into one follow-up. */
  checkpoint(signal?: AbortSignal): Promise<void>
  /** The final flush: waits for a running checkpoint, then snapshots; aborts cleanly at the signal. */
  flush(signal: AbortSignal): Promise<void>
  /** Periodic checkpoints every checkpointIntervalMs (unref'd timer, no overlap). */
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
  const intervalMs = options.checkpointIntervalMs ?? 0
  if (typeof intervalMs !== 'number' || !Number.isInteger(intervalMs) || intervalMs < 0) throw invalidOption('persist.checkpointIntervalMs', intervalMs, 'an integer >= 0 (0 = off)')
  const logger = deps.logger
  const where = { key: ctx.key, root: ctx.root, store: ctx.store.kind }

  let restoring: Promise<void> | undefined
  let running: Promise<void> | undefined
  let followUp: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined
  const stopInterval = () => {
    if (timer) clearInterval(timer)
    timer = undefined
  }

  const runSnapshot = async (phase: 'checkpoint' | 'flush', signal?: AbortSignal) => {
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

  /** Never snapshot a half-restored tree: a snapshot waits for the start-up restore (whatever its outcome). */
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

  return {
    restore(signal) {
      restoring ??= (async () => {
        if (!restoreOnStart) return
        logger.info(`persist: restore start ${fields(where)}`)
        try {
          const r = await restoreSnapshot(ctx, { signal })
          logger.info(`persist: restore done ${fields({ id: r.id, files: r.files, bytes: r.bytes, ms: r.durationMs })}`)
        } catch (err) {
          if (err instanceof ScfGracefulError && err.code === 'SCFG_ERR_SNAPSHOT_NOT_FOUND') {
            logger.info(`persist: nothing to restore ${fields({ key: ctx.key })}`)
            return
          }
          logger.error(`persist: restore failed ${fields({ code: (err as ScfGracefulError).code, key: ctx.key })}: ${(err as Error).message}`)
          throw err
        }
      })()
      return restoring
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
      if (intervalMs === 0 || timer) return
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
