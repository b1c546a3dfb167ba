import * as os from 'node:os'

/**
 * `os.availableParallelism()` (Node 18.14+) with the older estimate, `os.cpus().length`, on Node 16.13 and 18.13-:
 * imported by name it does not even load there (ESM: "does not provide an export named availableParallelism").
 */
export function availableParallelism(): number {
  const fn = (os as { availableParallelism?: () => number }).availableParallelism
  return typeof fn === 'function' ? fn() : Math.max(1, os.cpus().length)
}
