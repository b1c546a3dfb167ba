/**
 * The CLI's one progress display (snapshot, restore, bulk terminate, list --all), with no dependency: on a TTY a bar
 * redrawn in place on stderr at most 10 times a second; elsewhere a plain line at most once a second (a CI log or a
 * pipe gets a readable record, not carriage returns). Amounts carry their unit (MiB, files, events) and a rate.
 */

export type ProgressUnit = 'bytes' | 'files' | 'events'

export interface ProgressOptions {
  /** What is being done: `snapshot`, `restore`, `terminating`, `listing`. */
  label: string
  unit: ProgressUnit
  /** @default process.stderr */
  stream?: NodeJS.WritableStream & { isTTY?: boolean }
  /** Draw nothing at all (`--quiet`, `--json`). */
  silent?: boolean
  /** Override TTY detection (tests). @default stream.isTTY */
  tty?: boolean
  /** @default performance.now */
  now?: () => number
}

export interface ProgressBar {
  /** `done` of `total` (in `unit`), with an optional detail (`3/7 files`, `graceful 2 · forced 1`). */
  update(done: number, total: number, detail?: string): void
  /** Clears the bar on a TTY (the command's result follows); prints the last state on a plain stream. */
  end(): void
}

const BAR_WIDTH = 24

export function createProgressBar(options: ProgressOptions): ProgressBar {
  if (options.silent) return { update() {}, end() {} }
  const stream = options.stream ?? process.stderr
  const tty = options.tty ?? Boolean(stream.isTTY)
  const now = options.now ?? (() => performance.now())
  const started = now()
  let lastDraw = -Infinity
  let drawn = false
  let last: { done: number; total: number; detail: string | undefined } | undefined
  let lastPrinted: string | undefined

  const describe = (done: number, total: number, detail: string | undefined): string => {
    const seconds = Math.max(0.001, (now() - started) / 1000)
    const rate = done / seconds
    const percent = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100
    const eta = rate > 0 && done < total ? ` · ETA ${formatSeconds((total - done) / rate)}` : ''
    return `${percent}% ${amount(done, total, options.unit)} · ${formatRate(rate, options.unit)}${eta}${detail ? ` · ${detail}` : ''}`
  }

  return {
    update(done, total, detail) {
      last = { done, total, detail }
      const t = now()
      // a TTY shows the last step at once; a plain stream gets it from end()
      const finished = tty && total > 0 && done >= total
      if (t - lastDraw < (tty ? 100 : 1000) && !finished) return
      lastDraw = t
      if (tty) {
        const filled = total > 0 ? Math.min(BAR_WIDTH, Math.round((done / total) * BAR_WIDTH)) : BAR_WIDTH
        stream.write(`\r\u001b[K${options.label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${describe(done, total, detail)}`)
        drawn = true
      } else {
        const line = `${options.label}: ${describe(done, total, detail)}`
        lastPrinted = line
        stream.write(`${line}\n`)
      }
    },
    end() {
      if (tty) {
        if (drawn) stream.write('\r\u001b[K')
        drawn = false
        return
      }
      // a plain stream ends on the final numbers, once
      if (last) {
        const line = `${options.label}: ${describe(last.done, last.total, last.detail)}`
        if (line !== lastPrinted) stream.write(`${line}\n`)
        last = undefined
      }
    },
  }
}

/** `2.5/5.0 MiB`, `3/7 files`, `10/10 events`. */
function amount(done: number, total: number, unit: ProgressUnit): string {
  if (unit === 'bytes') {
    const [scale, name] = total >= 1024 ** 3 ? [1024 ** 3, 'GiB'] : total >= 1024 ** 2 || total === 0 ? [1024 ** 2, 'MiB'] : [1024, 'KiB']
    return `${(done / scale).toFixed(1)}/${(total / scale).toFixed(1)} ${name}`
  }
  return `${done}/${total} ${unit}`
}

/** `12.3 MiB/s`, `4.0 events/s`. */
export function formatRate(perSecond: number, unit: ProgressUnit): string {
  if (unit === 'bytes') {
    if (perSecond >= 1024 ** 3) return `${(perSecond / 1024 ** 3).toFixed(1)} GiB/s`
    if (perSecond >= 1024 ** 2) return `${(perSecond / 1024 ** 2).toFixed(1)} MiB/s`
    return `${(perSecond / 1024).toFixed(1)} KiB/s`
  }
  return `${perSecond.toFixed(1)} ${unit}/s`
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?'
  if (s < 60) return `${Math.ceil(s)}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}
