// Small helpers shared by the snapshot and restore paths: abort handling, a bounded worker pool, byte collection.
import { nowMs } from '../clock.js'
import { ScfGracefulError } from '../errors.js'

/** Throws SCFG_ERR_SNAPSHOT_ABORTED (with the signal's reason as cause) when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortedError(signal, what)
}

export function abortedError(signal: AbortSignal, what: string): ScfGracefulError {
  return new ScfGracefulError('SCFG_ERR_SNAPSHOT_ABORTED', `${what} aborted; the previous snapshot is intact`, { cause: signal.reason })
}

/** Maps an error thrown while the signal was aborting to SCFG_ERR_SNAPSHOT_ABORTED, leaves others alone. */
export function asAbortError(err: unknown, signal: AbortSignal | undefined, what: string): unknown {
  if (signal?.aborted && !(err instanceof ScfGracefulError && err.code !== 'SCFG_ERR_STORE_UNAVAILABLE')) return abortedError(signal, what)
  return err
}

/**
 * Runs `worker` over every item with at most `concurrency` running at once. The first failure stops handing out
 * new items; the pool waits for the running ones to settle (so no write is left dangling) and rethrows it.
 */
export async function runPool<T>(items: Iterable<T>, concurrency: number, worker: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]()
  let failure: { error: unknown } | undefined
  const lane = async () => {
    while (!failure) {
      const next = iterator.next()
      if (next.done) return
      try {
        await worker(next.value)
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane))
  if (failure) throw failure.error
}

/** A counting semaphore: `acquire()` resolves with a release function. */
export function createSemaphore(limit: number): { acquire(): Promise<() => void> } {
  let active = 0
  const waiting: (() => void)[] = []
  const release = () => {
    active--
    const next = waiting.shift()
    if (next) {
      active++
      next()
    }
  }
  return {
    acquire() {
      if (active < limit) {
        active++
        return Promise.resolve(once(release))
      }
      return new Promise((resolve) => waiting.push(() => resolve(once(release))))
    },
  }
}

function once(fn: () => void): () => void {
  let called = false
  return () => {
    if (!called) {
      called = true
      fn()
    }
  }
}

/** Reads a stream of bytes into one buffer, refusing more than `maxBytes` (a hostile store cannot exhaust memory). */
export async function collectBytes(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer | undefined> {
  const parts: Uint8Array[] = []
  let total = 0
  for await (const part of body) {
    total += part.byteLength
    if (total > maxBytes) {
      // stop reading: the caller reports the oversized value
      const it = body as AsyncIterable<Uint8Array> & { destroy?: () => void }
      it.destroy?.()
      return undefined
    }
    parts.push(part)
  }
  return Buffer.concat(parts, total)
}

/**
 * Resolves after `ms` or rejects when the signal aborts. The timer is NOT unref'd: a retry backoff or a wait for a
 * prune lock is an operation in flight, and with nothing else keeping the loop alive Node would exit 0 in the middle
 * of it (issue 10). It never outlives the wait: an abort clears it.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Races a promise against a bound; used for best-effort cleanups that must never hold a shutdown up. The bound's
 * timer stays ref'd: the caller awaits it, so the process must not exit before it settles (it is cleared at once
 * when the promise wins).
 */
export async function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms)
      }),
    ])
  } finally {
    if (timer) clearTimeout(timer)
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)}${units[unit]}`
}

/**
 * One call of Node's callback API as a promise: for file calls on the thread pool where the promise API would add a
 * FileHandle (tracked for closing on GC) and a promise of its own per call, which for a chunk's open, write, close
 * and rename costs about as much on the main thread as the calls themselves.
 */
export const onThreadPool = <T>(call: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value))))

/**
 * For loops of synchronous file calls on the local disk (the walk, reading a snapshot's source, writing a restore):
 * the returned function gives the event loop a turn (signals, timers, I/O callbacks) once `budgetMs` passed since
 * the last one, so a SIGTERM or a deadline is never held back much longer than that. Awaiting a settled promise is
 * not a turn: it runs only microtasks.
 *
 * It returns undefined while the budget lasts and the turn due otherwise. Right before each synchronous step (a
 * chunk's read, hash or write; a file's open), with no other await in between, a caller checks with
 * `for (let due = turn(); due; due = turn()) await due`, so it checks again after a turn. `await turn()` alone gives
 * at most one turn (between links, between entries).
 *
 * Lanes that share one (runPool's) share its budget: a turn due is one setImmediate that every lane waits for. One
 * setImmediate per lane would run the lanes one after another in one check phase, a budget each; an await between
 * a check and its step would let every lane take its step on the same check. `now` is for tests.
 */
export function loopTurns(budgetMs = 10, now: () => number = nowMs): () => Promise<void> | undefined {
  // at least 1 ms: with 0 a turn would be due right after every turn, and a caller's check-again loop would never end
  const budget = Math.max(1, budgetMs)
  let last = now()
  let pending: Promise<void> | undefined
  const due = () =>
    (pending ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        pending = undefined
        last = now()
        resolve()
      }),
    ))
  return () => (now() - last >= budget ? due() : undefined)
}

/**
 * Synchronous file calls for as long as the disk is fast. On a local disk (the instance's /tmp) a call takes
 * microseconds and the thread pool's round trip and promise cost more than the call; on a network mount one call
 * can take a whole round trip, and the event loop would wait for it. `timed(fn)` runs one synchronous call (or a
 * batch) and counts it slow past `budgetMs`; `slowInARow` slow ones in a row turn `sync` false for good and call
 * `onSlow` once. One slow call is only the machine being busy.
 */
export function syncWhileFast(budgetMs: number, slowInARow: number, onSlow?: () => void): { readonly sync: boolean; timed<T>(fn: () => T): T } {
  let sync = true
  let slow = 0
  return {
    get sync() {
      return sync
    },
    timed<T>(fn: () => T): T {
      const t0 = nowMs()
      try {
        return fn()
      } finally {
        slow = nowMs() - t0 > budgetMs ? slow + 1 : 0
        if (sync && slow >= slowInARow) {
          sync = false
          onSlow?.()
        }
      }
    },
  }
}
