// Retry with exponential backoff and full jitter, always bounded by the caller's AbortSignal: the shutdown deadline
// wins over any retry budget.

import { delay } from '../../persistence/util.js'

export interface RetryOptions {
  /** Attempts after the first one. */
  retries: number
  /** First backoff; doubles each attempt. */
  baseDelayMs: number
  /** Cap of one backoff. */
  maxDelayMs: number
  signal?: AbortSignal | undefined
  /** Whether this error is worth another attempt (throttling, 5xx, a dropped connection). */
  isRetryable(error: unknown): boolean
}

/** Runs `attempt` until it succeeds, fails with a non-retryable error, runs out of retries, or the signal aborts. */
export async function withRetry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { signal } = options
  for (let n = 0; ; n++) {
    signal?.throwIfAborted()
    try {
      return await attempt(n)
    } catch (error) {
      // an abort is the caller's decision, never a reason to try again
      if (signal?.aborted) throw signal.reason
      if (n >= options.retries || !options.isRetryable(error)) throw error
    }
    const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** n)
    await delay(Math.random() * ceiling, signal)
  }
}

/**
 * Races a promise that cannot be cancelled (an ioredis command) against the signal: the caller gets `signal.reason`
 * at once; the losing promise's outcome is swallowed.
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise
  if (signal.aborted) {
    promise.catch(() => {})
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {})
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
