// Small numeric helpers shared by the core benchmarks.

/** Sorted copy (numbers or bigints converted to numbers). */
export function sorted(values) {
  return values.map(Number).sort((a, b) => a - b)
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(values, p) {
  const s = sorted(values)
  if (s.length === 0) return NaN
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)))
  return s[rank - 1]
}

export function median(values) {
  const s = sorted(values)
  if (s.length === 0) return NaN
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** Median absolute deviation: a spread that one slow outlier cannot inflate. */
export function mad(values) {
  const m = median(values)
  return median(values.map((v) => Math.abs(Number(v) - m)))
}

export const ms = (ns) => (ns / 1e6).toFixed(3)
export const us = (ns) => (ns / 1e3).toFixed(2)
export const ratio = (a, b) => `${(a / b).toFixed(2)}×`

/** A markdown table from a header row and data rows. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}
