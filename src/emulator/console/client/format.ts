/**
 * How the page prints durations and times. Times are in SCF's zone, UTC+8, whatever the browser's: the API's own
 * strings and the CLI (`scf-graceful local`, `events list|logs`) print the same instant the same way.
 */

/** The zone every time on the page is shown in. */
export const ZONE = 'UTC+8'
const OFFSET_MS = 8 * 3_600_000
const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

/** The wall-clock parts of `ms` in UTC+8. */
export function zoned(ms: number): { year: number; month: number; day: number; hour: number; minute: number; second: number; milli: number } {
  const d = new Date(ms + OFFSET_MS)
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), milli: d.getUTCMilliseconds() }
}

const fmtDay = (ms: number): string => {
  const z = zoned(ms)
  return `${z.year}-${pad(z.month)}-${pad(z.day)}`
}

export function fmtDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`
  const s = Math.floor(ms / 1000)
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}

export function fmtAgo(ms: number): string {
  const d = Date.now() - ms
  if (d < 5000) return 'just now'
  if (d < 60_000) return `${Math.floor(d / 1000)}s ago`
  if (d < 3_600_000) return `${Math.floor(d / 60_000)}m ago`
  if (d < 86_400_000) return `${Math.floor(d / 3_600_000)}h ago`
  return fmtDay(ms)
}

export const fmtAbs = (ms: number): string => {
  const z = zoned(ms)
  return `${fmtDay(ms)} ${pad(z.hour)}:${pad(z.minute)}:${pad(z.second)} ${ZONE}`
}

/** `HH:MM:SS.mmm` in UTC+8. */
export function fmtClock(ms: number): string {
  const z = zoned(ms)
  return `${pad(z.hour)}:${pad(z.minute)}:${pad(z.second)}.${pad(z.milli, 3)}`
}

/** API time `YYYY-MM-DD HH:MM:SS.ffffff` (UTC+8) to ms, when a row lacks StartMs/EndMs. */
export function apiMs(t: string | undefined): number | undefined {
  const m = t ? /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})/.exec(t) : null
  if (!m) return undefined
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) - 480 * 60_000
}

export function pretty(s: string): string {
  try {
    return JSON.stringify(JSON.parse(s), null, 2)
  } catch {
    return s
  }
}
