/** Durations on the command line (`30s`, `2m`, `500ms`, `1h30m`, `1.5s`) and how the CLI prints them. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y

/**
 * Parses a duration into milliseconds, or returns undefined when it is not one. A bare number is seconds
 * (`--escalate-after 30` reads as people mean it).
 *
 * @example parseDuration('1m30s') // 90000
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim().toLowerCase()
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000)
  if (!s) return undefined
  let total = 0
  PART_RE.lastIndex = 0
  while (PART_RE.lastIndex < s.length) {
    const at = PART_RE.lastIndex
    const m = PART_RE.exec(s)
    if (!m || m.index !== at) return undefined
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number)
  }
  return Number.isFinite(total) ? Math.round(total) : undefined
}

/** `850ms`, `4.2s`, `3m05s`, `2h10m`: short, and exact enough for a report. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-'
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`
  const totalS = Math.floor(ms / 1000)
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m${String(totalS % 60).padStart(2, '0')}s`
  const totalM = Math.floor(totalS / 60)
  if (totalM < 48 * 60) return `${Math.floor(totalM / 60)}h${String(totalM % 60).padStart(2, '0')}m`
  return `${Math.floor(totalM / 1440)}d${String(Math.floor((totalM % 1440) / 60)).padStart(2, '0')}h`
}
