/**
 * Times of the async event APIs: `YYYY-MM-DD HH:MM:SS[.ffffff]` in China Standard Time (UTC+8), which is what the
 * real service prints and reads (the emulator does the same by default).
 */
import { parseDuration } from './duration.js'

export const API_UTC_OFFSET_MINUTES = 480

const API_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/

/** `YYYY-MM-DD HH:MM:SS` in the API's zone, for a filter bound. */
export function toApiTime(ms: number, offsetMinutes = API_UTC_OFFSET_MINUTES): string {
  const iso = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes * 60_000).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
}

/** ms since epoch of an API time string, or undefined (empty EndTime of a RUNNING event, garbage). */
export function fromApiTime(text: string | undefined | null, offsetMinutes = API_UTC_OFFSET_MINUTES): number | undefined {
  const m = text ? API_TIME_RE.exec(text) : null
  if (!m) return undefined
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const frac = m[7] ? Number(m[7].padEnd(6, '0')) / 1000 : 0
  return Date.UTC(y, mo - 1, d, h, mi, s) - offsetMinutes * 60_000 + frac
}

/**
 * A time on the command line, as ms since epoch:
 * - `2026-11-30 08:00:00` (or with `T`): the API's own zone, UTC+8, as the Tencent Cloud console shows times
 * - ISO 8601 with a zone: `2026-11-30T00:00:00Z`, `2026-11-30T08:00:00+08:00`
 * - a duration meaning "that long ago": `30m`, `2h`, `1d`; and `now`
 * Returns undefined when it is none of these.
 */
export function parseTimeArg(text: string, now = Date.now()): number | undefined {
  const s = text.trim()
  if (s === 'now') return now
  const ago = /^\d/.test(s) && !/^\d{4}-/.test(s) ? parseDuration(s) : undefined
  if (ago !== undefined) return now - ago
  const api = fromApiTime(s)
  if (api !== undefined) return api
  if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/i.test(s)) {
    const t = Date.parse(s)
    return Number.isNaN(t) ? undefined : t
  }
  return undefined
}
