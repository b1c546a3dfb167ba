/**
 * Time as the async event APIs print and parse it. The real service answers in China Standard Time (UTC+8) with
 * `YYYY-MM-DD HH:MM:SS.ffffff`, and reads filter bounds as `YYYY-MM-DD HH:MM:SS` in the same zone; the emulator
 * does the same by default (`utcOffsetMinutes`).
 */
import { ApiError } from './api-params.js'

export const DEFAULT_UTC_OFFSET_MINUTES = 480

let lastUs = 0

/** Microseconds since epoch, strictly increasing within this process (so start order is total). */
export function nowUs(): number {
  const t = Math.floor((performance.timeOrigin + performance.now()) * 1000)
  lastUs = t > lastUs ? t : lastUs + 1
  return lastUs
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` in the given zone. */
export function formatEventTime(us: number, offsetMinutes: number): string {
  const ms = Math.floor(us / 1000)
  const iso = new Date(ms + offsetMinutes * 60_000).toISOString()
  const micros = String(((us % 1_000_000) + 1_000_000) % 1_000_000).padStart(6, '0')
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${micros}`
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/

/** Parses `YYYY-MM-DD HH:MM:SS` (in the given zone) to microseconds since epoch, or throws InvalidParameterValue. */
export function parseEventTime(value: string, offsetMinutes: number, param: string): number {
  const m = TIME_RE.exec(value)
  if (m) {
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number]
    const utc = Date.UTC(y, mo - 1, d, h, mi, s)
    const back = new Date(utc)
    // Date.UTC rolls 02-30 over to March; a real calendar date survives the round trip
    if (back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && h < 24 && mi < 60 && s < 60) {
      return (utc - offsetMinutes * 60_000) * 1000
    }
  }
  throw new ApiError('InvalidParameterValue', `${param} must be a time "YYYY-MM-DD HH:MM:SS", got ${JSON.stringify(value.slice(0, 40))}.`)
}
