/**
 * Monotonic milliseconds for durations and deadlines. Not `performance.now()`: on Node 20 the first read of the
 * `performance` global loads Node's perf_hooks internals, about 2 ms of CPU on a cold start (bench/core), and the
 * first invocation of every cold instance would pay it. `process.hrtime` is the same clock, already loaded.
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}
