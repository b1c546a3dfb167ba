// Waiting in tests: on a condition, bounded, never a fixed sleep (DEVELOPERS.md, "Build and test"). A fixed sleep is
// either too short on a busy machine (a flaky test) or longer than needed everywhere else (a slow one), and it hides
// what the test is waiting for.
import { setTimeout as sleep } from 'node:timers/promises'

export interface WaitOptions {
  /** What is awaited, for the timeout's message ("the handler's 'started' line"); a function is read at timeout. */
  what: string | (() => string)
  /** The bound (default 10 s). */
  timeoutMs?: number
  /** How often `check` runs (default 10 ms). */
  intervalMs?: number
}

/**
 * Runs `check` until it returns a truthy value and returns that value; throws, naming `what`, once `timeoutMs`
 * passed. A `check` that throws fails the wait at once (a broken check is not "not yet").
 */
export async function waitFor<T>(check: () => T | Promise<T>, options: WaitOptions): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 10 } = options
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() >= deadline) {
      const what = typeof options.what === 'function' ? options.what() : options.what
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    }
    await sleep(intervalMs)
  }
}

/**
 * A negative wait: "nothing happens within `ms`". Use it only where no positive barrier exists (a later log line, a
 * second event, an acknowledgement that proves the thing would have happened by then), and say `why` there is none.
 * Each call is named so they stay visible and few: `grep -rn quietPeriod test`.
 */
export async function quietPeriod(ms: number, why: string): Promise<void> {
  if (!why.trim()) throw new Error('quietPeriod needs a reason: say why no condition can be awaited here')
  await sleep(ms)
}

/**
 * A positive barrier for "a timer of period `periodMs` did not fire" (an interval that was stopped, or never set):
 * `ticks` ticks of a witness interval of the same period, set now. Node fires timers of equal duration in the order
 * they were set and runs each callback's microtasks before the next timer, so a live interval of that period set
 * earlier would have fired, and run its callback's promise chain up to its first real wait, `ticks` times by then.
 */
export function timerTicks(periodMs: number, ticks: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0
    const witness = setInterval(() => {
      if (++seen < ticks) return
      clearInterval(witness)
      resolve()
    }, periodMs)
  })
}
