/**
 * One time zone for every time the CLI prints: UTC+8 (China Standard Time), as SCF's API and console show times,
 * always printed with its zone; `--tz` picks another (`UTC`, `UTC-5`, `+05:30`, `local`).
 */
import { didYouMean } from './args.js'
import { UsageError } from './exit-codes.js'

export interface TimeZone {
  /** Minutes east of UTC, or 'local' (this machine's zone, per instant: daylight saving moves it). */
  offsetMinutes: number | 'local'
}

export const SCF_TIME_ZONE: TimeZone = { offsetMinutes: 480 }

export const tzHelp = '--tz ZONE             times in ZONE: UTC+8 (default, as SCF shows them), UTC, UTC-5, +05:30, local'

/** Parses `--tz`; throws a UsageError naming the forms it takes. */
export function parseTimeZone(text: string | undefined): TimeZone {
  if (text === undefined) return SCF_TIME_ZONE
  const s = text.trim()
  if (/^local$/i.test(s)) return { offsetMinutes: 'local' }
  if (/^(utc|gmt|z)$/i.test(s)) return { offsetMinutes: 0 }
  const m = /^(?:utc|gmt)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$/i.exec(s)
  if (m) {
    const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0)
    if (Number(m[2]) <= 14 && Number(m[3] ?? 0) < 60) return { offsetMinutes: (m[1] === '-' ? -1 : 1) * minutes }
  }
  throw new UsageError(`--tz must be UTC, UTC+8, UTC-5, +05:30 or local, got "${text}"${didYouMean(s, ['UTC', 'local'])}`)
}

function offsetAt(ms: number, tz: TimeZone): number {
  return tz.offsetMinutes === 'local' ? -new Date(ms).getTimezoneOffset() : tz.offsetMinutes
}

/** `+08:00`, `Z` for UTC. */
export function zoneSuffix(ms: number, tz: TimeZone): string {
  const off = offsetAt(ms, tz)
  if (off === 0) return 'Z'
  const a = Math.abs(off)
  return `${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`
}

/** `UTC+8`, `UTC-5:30`, `UTC` for a table header (the zone at `ms`). */
export function zoneLabel(tz: TimeZone, ms = Date.now()): string {
  const off = offsetAt(ms, tz)
  if (off === 0) return 'UTC'
  const a = Math.abs(off)
  return `UTC${off < 0 ? '-' : '+'}${Math.floor(a / 60)}${a % 60 ? `:${String(a % 60).padStart(2, '0')}` : ''}`
}

function shifted(ms: number, tz: TimeZone): string {
  return new Date(ms + offsetAt(ms, tz) * 60_000).toISOString()
}

/** `08:00:00.123+08:00`: a log line's time, zone included. */
export function formatClock(ms: number, tz: TimeZone = SCF_TIME_ZONE): string {
  return `${shifted(ms, tz).slice(11, 23)}${zoneSuffix(ms, tz)}`
}

/** `2026-11-30 08:00:00` in the zone (the table header names the zone). */
export function formatDateTime(ms: number, tz: TimeZone = SCF_TIME_ZONE): string {
  const iso = shifted(ms, tz)
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
}
