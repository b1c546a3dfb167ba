/**
 * Graceful-then-force from the console: after SIGTERM, force follows if the event is still RUNNING when the wait is
 * over (what `scf-graceful events terminate --grace --escalate-after` does from the CLI). The server keeps the timer,
 * so a closed tab does not cancel it; `close()` (the server stopping) does.
 */
export interface Escalations {
  /** Schedules force for `requestId` at now + afterMs; returns when. */
  schedule(requestId: string, afterMs: number, force: () => Promise<void>): number
  cancel(requestId: string): void
  /** request id -> when force is sent (ms since epoch) */
  pending(): Record<string, number>
  close(): void
}

export function createEscalations(onError: (requestId: string, err: unknown) => void): Escalations {
  const timers = new Map<string, { at: number; timer: NodeJS.Timeout }>()
  return {
    schedule(requestId, afterMs, force) {
      this.cancel(requestId)
      const at = Date.now() + afterMs
      // not unref'd: it is work the user asked for; close() clears it
      const timer = setTimeout(() => {
        timers.delete(requestId)
        force().catch((err: unknown) => onError(requestId, err))
      }, afterMs)
      timers.set(requestId, { at, timer })
      return at
    },
    cancel(requestId) {
      const t = timers.get(requestId)
      if (!t) return
      clearTimeout(t.timer)
      timers.delete(requestId)
    },
    pending() {
      return Object.fromEntries([...timers].map(([id, t]) => [id, t.at]))
    },
    close() {
      for (const t of timers.values()) clearTimeout(t.timer)
      timers.clear()
    },
  }
}
