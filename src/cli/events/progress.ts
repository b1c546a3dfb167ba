/** A one-line progress display on a TTY's stderr (bulk operations), redrawn at most ~10 times a second. */
import type { Output } from './output.js'

export interface Progress {
  update(done: number, total: number, detail: string): void
  /** Clears the line (the final report follows). */
  end(): void
}

export function createProgress(out: Output, label: string): Progress {
  if (!out.stderrIsTty || out.json) return { update() {}, end() {} }
  let last = 0
  let drawn = false
  return {
    update(done, total, detail) {
      const now = performance.now()
      if (done < total && now - last < 100) return
      last = now
      const width = 24
      const filled = total ? Math.round((done / total) * width) : width
      out.errRaw(`\r\u001b[K${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${detail}`)
      drawn = true
    },
    end() {
      if (drawn) out.errRaw('\r\u001b[K')
    },
  }
}
