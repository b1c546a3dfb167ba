/**
 * `scf-graceful events logs ID`: an event's log from the local emulator. The Tencent Cloud API has no action for an
 * async event's log (the cloud keeps logs in CLS), so this reads the emulator console's data endpoint
 * (`GET /console/api/events/ID/logs`, and the SSE stream for `--follow`), which needs the console token.
 */
import { parseCommandLine } from '../../args.js'
import { ApiCallError, exitCodes, NETWORK_ERROR, UsageError } from '../errors.js'
import { paint, type Output } from '../output.js'
import { registerSecret } from '../../../log.js'


export const usage = `usage: scf-graceful events logs REQUEST_ID --console URL [--follow] [--json]
       scf-graceful events logs REQUEST_ID --endpoint http://127.0.0.1:9001 --token TOKEN [--follow] [--json]

Emulator only: the cloud keeps function logs in CLS, which the SCF API does not serve.

  --console URL     the console URL that scf-graceful local printed (http://127.0.0.1:9001/console?token=...)
  --endpoint URL    the emulator (env SCF_GRACEFUL_ENDPOINT), with
  --token TOKEN     the console token (env SCF_GRACEFUL_CONSOLE_TOKEN)
  -F, --follow      keep printing new lines until the event ends
  --json            {"requestId", "lines": [{"time" (ms since epoch), "stream" (stdout|stderr|platform), "line"}]};
                    with --follow: one JSON object per line (NDJSON), then {"event": {...final record}}

Exit: 0, 3 unknown event, 4 the emulator did not answer, 5 missing or wrong token.`

const options = {
  console: { type: 'string' },
  endpoint: { type: 'string' },
  token: { type: 'string' },
  follow: { type: 'boolean', short: 'F' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

interface LogLine {
  time: number
  stream: string
  line: string
}

export async function run(argv: string[], out: Output): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, options, 1)
  const id = positionals[0]
  if (!id) throw new UsageError('give the event id: scf-graceful events logs REQUEST_ID --console URL')
  const { origin, token } = target(values)
  registerSecret(token)
  const path = `/console/api/events/${encodeURIComponent(id)}/logs`
  if (!values.follow) {
    const res = await get(origin, path, token, AbortSignal.timeout(30_000))
    const body = (await res.json()) as { requestId: string; lines: LogLine[] }
    if (out.json) out.out(JSON.stringify(body, null, 2))
    else if (!body.lines.length) out.err(`no log lines for ${id} yet`)
    else for (const l of body.lines) out.out(formatLine(l, out.color))
    return exitCodes.ok
  }
  return follow(origin, id, token, out)
}

function target(values: { console?: string | undefined; endpoint?: string | undefined; token?: string | undefined }): { origin: string; token: string } {
  if (values.console !== undefined) {
    if (values.endpoint !== undefined) throw new UsageError('give --console URL or --endpoint, not both')
    let url: URL
    try {
      url = new URL(values.console)
    } catch {
      throw new UsageError(`--console must be the console URL (http://127.0.0.1:PORT/console?token=...), got "${values.console}"`)
    }
    const token = values.token ?? url.searchParams.get('token') ?? process.env.SCF_GRACEFUL_CONSOLE_TOKEN
    if (!token) throw new UsageError('the --console URL has no ?token=...; give --token TOKEN or the full URL that scf-graceful local printed')
    return { origin: url.origin, token }
  }
  const endpoint = values.endpoint ?? process.env.SCF_GRACEFUL_ENDPOINT
  if (!endpoint) throw new UsageError('logs come from the local emulator: give --console URL (printed by scf-graceful local), or --endpoint URL and --token TOKEN')
  let origin: string
  try {
    origin = new URL(endpoint).origin
  } catch {
    throw new UsageError(`--endpoint must be a URL like http://127.0.0.1:9001, got "${endpoint}"`)
  }
  const token = values.token ?? process.env.SCF_GRACEFUL_CONSOLE_TOKEN
  if (!token) throw new UsageError('no console token: give --token TOKEN (or SCF_GRACEFUL_CONSOLE_TOKEN), or --console with the URL scf-graceful local printed')
  return { origin, token }
}

async function get(origin: string, path: string, token: string, signal: AbortSignal): Promise<Response> {
  let res: Response
  try {
    res = await fetch(origin + path, { headers: { 'X-Console-Token': token, Accept: 'application/json, text/event-stream' }, signal })
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause
    throw new ApiCallError('logs', NETWORK_ERROR, `the emulator at ${origin} did not answer: ${cause?.message ?? (err as Error).message}`)
  }
  if (res.ok) return res
  const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } }
  const message = body.error?.message ?? `HTTP ${res.status}`
  if (res.status === 401 || res.status === 403) throw new ApiCallError('logs', 'AuthFailure.ConsoleToken', message)
  if (res.status === 404) throw new ApiCallError('logs', body.error?.code?.startsWith('ResourceNotFound') ? body.error.code : 'ResourceNotFound', `${message}${body.error?.code === 'NotFound' ? ' (is this the emulator? logs need scf-graceful local)' : ''}`)
  throw new ApiCallError('logs', body.error?.code ?? 'InternalError', message)
}

/** Streams the event's log over SSE until the emulator sends `end` (the event stopped RUNNING). */
async function follow(origin: string, id: string, token: string, out: Output): Promise<number> {
  const controller = new AbortController()
  // the emulator sends a heartbeat every 15 s: silence for much longer means it is gone
  let idle: NodeJS.Timeout | undefined
  const touch = () => {
    clearTimeout(idle)
    idle = setTimeout(() => controller.abort(new Error('no data from the emulator for 45 s')), 45_000)
  }
  touch()
  const res = await get(origin, `/console/api/stream?requestId=${encodeURIComponent(id)}`, token, controller.signal)
  const decoder = new TextDecoder()
  let buffer = ''
  let final: Record<string, unknown> | undefined
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      touch()
      buffer += decoder.decode(chunk, { stream: true })
      let sep: number
      while ((sep = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, sep)
        buffer = buffer.slice(sep + 2)
        let event = 'message'
        let data = ''
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim()
          else if (line.startsWith('data:')) data += line.slice(5).trim()
        }
        if (event === 'log') {
          const l = JSON.parse(data) as LogLine
          out.out(out.json ? JSON.stringify(l) : formatLine(l, out.color))
        } else if (event === 'event') {
          final = JSON.parse(data) as Record<string, unknown>
        } else if (event === 'end') {
          if (out.json) out.out(JSON.stringify({ event: final ?? null }))
          else if (final) out.err(`event ${id} ended: ${final.status} (StatusCode ${final.statusCode})`)
          return exitCodes.ok
        }
      }
    }
  } catch (err) {
    if (controller.signal.aborted) throw new ApiCallError('logs', NETWORK_ERROR, (controller.signal.reason as Error)?.message ?? 'the stream stopped')
    throw new ApiCallError('logs', NETWORK_ERROR, `the stream from ${origin} broke: ${(err as Error).message}`)
  } finally {
    clearTimeout(idle)
    controller.abort()
  }
  throw new ApiCallError('logs', NETWORK_ERROR, `the emulator at ${origin} closed the stream before the event ended`)
}

/** `12:03:04.567 stdout  line`; [PLATFORM] lines stand out, stderr is red. */
export function formatLine(l: LogLine, color: boolean): string {
  const d = new Date(l.time)
  const time = `${d.toTimeString().slice(0, 8)}.${String(d.getMilliseconds()).padStart(3, '0')}`
  const text = l.line.startsWith('[PLATFORM]') ? paint(color, 'magenta', l.line) : l.stream === 'stderr' ? paint(color, 'red', l.line) : l.stream === 'platform' ? paint(color, 'gray', l.line) : l.line
  return `${paint(color, 'gray', time)} ${l.stream.padEnd(8)} ${text}`
}
