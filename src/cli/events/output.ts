/** Where the CLI writes: results on stdout, diagnostics on stderr, both redacted; colour only on a TTY. */
import { redact } from '../../log.js'

export interface Output {
  readonly json: boolean
  /** colours on stdout */
  readonly color: boolean
  readonly stderrIsTty: boolean
  out(text: string): void
  err(text: string): void
  /** Writes on stderr without a newline (a progress line that `\r` rewrites). */
  errRaw(text: string): void
}

/**
 * Colour on a TTY, as the conventions say: NO_COLOR set to a non-empty value turns it off (https://no-color.org:
 * an empty NO_COLOR means nothing), FORCE_COLOR (non-empty, not "0"/"false") turns it on even when piped and wins
 * over NO_COLOR; TERM=dumb turns it off.
 */
export function colorWanted(isTty: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false'
  if (env.NO_COLOR) return false
  if (env.TERM === 'dumb') return false
  return isTty
}

export function createOutput(json: boolean, streams: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream } = process): Output {
  return {
    json,
    color: !json && colorWanted(Boolean(streams.stdout.isTTY)),
    stderrIsTty: Boolean(streams.stderr.isTTY),
    out: (text) => void streams.stdout.write(`${redact(text)}\n`),
    err: (text) => void streams.stderr.write(`${redact(text)}\n`),
    errRaw: (text) => void streams.stderr.write(redact(text)),
  }
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const
export type Color = keyof typeof CODES

export function paint(on: boolean, color: Color, text: string): string {
  return on ? `\u001b[${CODES[color]}m${text}\u001b[0m` : text
}

/** The colour an event status is shown in. */
export function statusColor(status: string): Color {
  return status === 'RUNNING' ? 'blue' : status === 'FINISHED' ? 'green' : status === 'FAILED' ? 'red' : status === 'ABORTED' ? 'yellow' : 'gray'
}

const ANSI_RE = /\u001b\[[0-9;]*m/g

/** A plain-text table: left-aligned columns two spaces apart, header in bold; ANSI codes do not count for width. */
export function table(headers: string[], rows: string[][], color = false): string {
  const width = (s: string) => s.replace(ANSI_RE, '').length
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] as number) - width(c))))
      .join('  ')
      .trimEnd()
  return [paint(color, 'bold', line(headers)), ...rows.map(line)].join('\n')
}
