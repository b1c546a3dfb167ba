/** How long an exit waits for stdout and stderr to take what was written to them. */
const FLUSH_BOUND_MS = 2000

/**
 * `process.exit(code)` once everything written to stdout and stderr reached the OS. Writes to a pipe whose reader is
 * slower than the writer queue up in the process, and `process.exit()` drops them: the last log lines of a job (its
 * error among them) would be lost. Bounded, so a stuck reader cannot keep the process alive.
 */
export function exitAfterOutput(code: number): void {
  const streams = [process.stdout, process.stderr].filter((s) => s.writable && s.writableLength > 0)
  if (streams.length === 0) process.exit(code)
  process.exitCode = code
  setTimeout(() => process.exit(code), FLUSH_BOUND_MS)
  let pending = streams.length
  // an empty write completes after every write queued before it
  for (const s of streams) s.write('', () => --pending === 0 && process.exit(code))
}
