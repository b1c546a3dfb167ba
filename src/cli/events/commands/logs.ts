/**
 * `scf-graceful events logs ID`: an event's log from the local emulator. The Tencent Cloud API has no action for an
 * async event's log (the cloud keeps logs in CLS), so this asks the emulator's own signed action
 * (`ScfGracefulGetAsyncEventLogs`, same credentials as every other command), or, with `--console`, the console's
 * data endpoint with its token. `--follow` polls until the event ends.
 */
import { parseCommandLine } from '../../args.js'
import { neutralizeControls } from '../../terminal-text.js'
import { formatClock, parseTimeZone, tzHelp, type TimeZone } from '../../time-zone.js'
import { sleep, type EventsApi } from '../api-client.js'
import { connect, connectionHelp, connectionOptions, endpointOf } from '../context.js'
import { ApiCallError, exitCodes, NETWORK_ERROR, UsageError } from '../errors.js'
import { paint, type Output } from '../output.js'
import { registerSecret } from '../../../log.js'

export const usage = `usage: scf-graceful events logs REQUEST_ID --endpoint http://127.0.0.1:9001 [--follow] [--json]
       scf-graceful events logs REQUEST_ID --console URL [--follow] [--json]

Emulator only: the cloud keeps function logs in CLS, which the SCF API does not serve. With --endpoint the log is read
through the emulator's signed API with the same credentials as the other commands; --console reads it with the
console token instead.

  -F, --follow      keep printing new lines until the event ends
  --console URL     the console URL that scf-graceful local printed (http://127.0.0.1:9001/console?token=...)
  --console-token T the console token, if the URL has none (env SCF_GRACEFUL_CONSOLE_TOKEN)
  ${tzHelp}
  --json            {"requestId", "lines": [{"time" (ms since epoch), "stream" (stdout|stderr|platform), "line"}]};
                    with --follow: one JSON object per line (NDJSON), then {"event": {status, statusCode}}

Escape sequences a function printed are shown as text (\\x1b[...); --json keeps the lines exact.

${connectionHelp}

Exit: 0, 3 unknown event, 4 the emulator did not answer, 5 wrong credentials or console token.`

const options = {
  ...connectionOptions,
  console: { type: 'string' },
  'console-token': { type: 'string' },
  follow: { type: 'boolean', short: 'F' },
  tz: { type: 'string' },
} as const

export interface LogLine {
  time: number
  stream: string
  line: string
}

interface LogSource {
  /** Lines from `offset` on, and the event's status. */
  read(offset: number): Promise<{ lines: LogLine[]; status: string | null; statusCode: number | null }>
}

export async function run(argv: string[], out: Output): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, options, 1)
  const id = positionals[0]
  if (!id) throw new UsageError('give the event id: scf-graceful events logs REQUEST_ID --endpoint URL')
  const tz = parseTimeZone(values.tz)
  const source = values.console !== undefined ? consoleSource(values, id) : await apiSource(values, id, out)
  const show = (l: LogLine) => out.out(out.json ? JSON.stringify(l) : formatLine(l, out.color, tz))
  if (!values.follow) {
    const { lines } = await source.read(0)
    if (out.json) out.out(JSON.stringify({ requestId: id, lines }, null, 2))
    else if (!lines.length) out.err(`no log lines for ${id} yet`)
    else for (const l of lines) show(l)
    return exitCodes.ok
  }
  let offset = 0
  let delay = 250
  for (;;) {
    const page = await source.read(offset)
    for (const l of page.lines) show(l)
    offset += page.lines.length
    if (page.status !== null && page.status !== 'RUNNING') {
      // one more read: lines written just before the end
      const tail = await source.read(offset)
      for (const l of tail.lines) show(l)
      if (out.json) out.out(JSON.stringify({ event: { status: page.status, statusCode: page.statusCode } }))
      else out.err(`event ${id} ended: ${page.status} (StatusCode ${page.statusCode})`)
      return exitCodes.ok
    }
    delay = page.lines.length ? 250 : Math.min(1000, delay * 1.5)
    await sleep(delay)
  }
}

/** The emulator's signed logs action: API credentials only. */
async function apiSource(values: Parameters<typeof connect>[0] & { 'console-token'?: string | undefined }, id: string, out: Output): Promise<LogSource> {
  if (values['console-token'] !== undefined) throw new UsageError('--console-token goes with --console URL')
  if (!endpointOf(values)) throw new UsageError('logs come from the local emulator: give --endpoint URL (printed by scf-graceful local; env SCF_GRACEFUL_ENDPOINT), or --console URL')
  const api: EventsApi = await connect(values, out)
  return {
    async read(offset) {
      let res: Record<string, unknown>
      try {
        res = await api.call('ScfGracefulGetAsyncEventLogs', { InvokeRequestId: id, Offset: offset })
      } catch (err) {
        if (err instanceof ApiCallError && err.apiCode === 'InvalidAction') {
          throw new ApiCallError('logs', err.apiCode, `${err.message} (event logs are an emulator feature: is --endpoint scf-graceful local?)`, err.requestId)
        }
        throw err
      }
      const lines = ((res.Lines ?? []) as { Time: number; Stream: string; Line: string }[]).map((l) => ({ time: l.Time, stream: l.Stream, line: l.Line }))
      return { lines, status: (res.Status as string | null) ?? null, statusCode: (res.StatusCode as number | null) ?? null }
    },
  }
}

/** The console's data endpoint, with its token. */
function consoleSource(values: { console?: string | undefined; endpoint?: string | undefined; 'console-token'?: string | undefined }, id: string): LogSource {
  if (values.endpoint !== undefined) throw new UsageError('give --console URL or --endpoint, not both')
  let url: URL
  try {
    url = new URL(values.console as string)
  } catch {
    throw new UsageError(`--console must be the console URL (http://127.0.0.1:PORT/console?token=...), got "${values.console}"`)
  }
  const token = values['console-token'] ?? url.searchParams.get('token') ?? process.env.SCF_GRACEFUL_CONSOLE_TOKEN
  if (!token) throw new UsageError('the --console URL has no ?token=...; give --console-token TOKEN or the full URL that scf-graceful local printed')
  registerSecret(token)
  const origin = url.origin
  const get = async (path: string): Promise<Record<string, unknown>> => {
    let res: Response
    try {
      res = await fetch(origin + path, { headers: { 'X-Console-Token': token, Accept: 'application/json' }, signal: AbortSignal.timeout(30_000) })
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause
      throw new ApiCallError('logs', NETWORK_ERROR, `the emulator at ${origin} did not answer: ${cause?.message ?? (err as Error).message}`)
    }
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown> & { error?: { code?: string; message?: string } }
    if (res.ok) return body
    const message = body.error?.message ?? `HTTP ${res.status}`
    if (res.status === 401 || res.status === 403) throw new ApiCallError('logs', 'AuthFailure.ConsoleToken', message)
    if (res.status === 404) throw new ApiCallError('logs', body.error?.code?.startsWith('ResourceNotFound') ? body.error.code : 'ResourceNotFound', `${message}${body.error?.code === 'NotFound' ? ' (is this the emulator? logs need scf-graceful local)' : ''}`)
    throw new ApiCallError('logs', body.error?.code ?? 'InternalError', message)
  }
  const path = `/console/api/events/${encodeURIComponent(id)}`
  return {
    async read(offset) {
      const { lines } = (await get(`${path}/logs`)) as { lines: LogLine[] }
      const { event } = (await get(path)) as { event: { status?: string; statusCode?: number } | null }
      return { lines: lines.slice(offset), status: event?.status ?? null, statusCode: event?.statusCode ?? null }
    },
  }
}

/** `08:00:04.567+08:00 stdout   line`; [PLATFORM] lines stand out, stderr is red; control characters shown as text. */
export function formatLine(l: LogLine, color: boolean, tz?: TimeZone): string {
  const line = neutralizeControls(l.line)
  const text = line.startsWith('[PLATFORM]') ? paint(color, 'magenta', line) : l.stream === 'stderr' ? paint(color, 'red', line) : l.stream === 'platform' ? paint(color, 'gray', line) : line
  return `${paint(color, 'gray', formatClock(l.time, tz))} ${l.stream.padEnd(8)} ${text}`
}
