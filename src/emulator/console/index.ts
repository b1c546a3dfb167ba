/**
 * The emulator's web console: one page (plain HTML/CSS/JS, no build step) and a few JSON endpoints under
 * `/console`, plus Server-Sent Events for live updates. Every request needs the console token; every action goes
 * through `emulator.call`, so the console can do nothing the API could not.
 *
 *   GET  /console                          the page (?token=...)
 *   GET  /console/api/functions            emulator.listFunctions()
 *   GET  /console/api/events?function=...  ListAsyncEvents (filters and paging as query parameters; times in ms)
 *   GET  /console/api/events/ID            the event record (times in ms, status code, result or error)
 *   GET  /console/api/events/ID/logs       { requestId, lines: [{ time, stream, line }] }  (also `events logs` of the CLI)
 *   GET  /console/api/stream               SSE: `event` (an event record) on every state change
 *   GET  /console/api/stream?requestId=ID  SSE: the event's log so far, then live `log` lines, `event` changes, and
 *                                          `end` once it is no longer RUNNING (the stream then closes)
 *   GET  /console/api/timeline?function=.. the latest 100 events with their instance and marks from their logs
 *   POST /console/api/invoke               { functionName, namespace?, invocationType, payload } -> Invoke
 *   POST /console/api/terminate            { functionName, namespace?, requestId | requestIds, grace, escalateAfterMs? }
 *                                          -> TerminateAsyncEvent per event; with escalateAfterMs, force follows if the
 *                                          event is still RUNNING then
 *
 * The page's script is bundled from ./client/ at build time (./page.ts); ./shared.ts holds the types both sides use.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { invalidOption } from '../../errors.js'
import { tokenMatches, tokenOf } from './auth.js'
import { createEscalations } from './escalations.js'
import { renderPage } from './page.js'
import { MAX_BULK, STATUSES, type EventRecord, type EventsPage, type TerminateResult } from './shared.js'
import { createStreams, type ConsoleEmulator } from './streams.js'
import { buildTimeline } from './timeline.js'
import { BodyTooLargeError, readBody } from '../read-body.js'
import { ScfGracefulError } from '../../errors.js'

export type { ConsoleEmulator } from './streams.js'

export interface ConsoleOptions {
  /** Required on every request (query `token`, header `X-Console-Token` or `Authorization: Bearer`). */
  token: string
  /** @default '/console' */
  basePath?: string
  /** Largest POST body. @default 256 KiB (an async payload may be 128 KB) */
  maxBodyBytes?: number
}

/** A Node request handler; `close()` ends the open live streams (call it before closing the server). */
export type ConsoleHandler = ((req: IncomingMessage, res: ServerResponse) => void) & { close(): void }

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
}

/**
 * Creates the console's request handler over an emulator.
 *
 * @example
 * const handler = createConsoleHandler(emulator, { token })
 * http.createServer((req, res) => req.url?.startsWith('/console') ? handler(req, res) : api(req, res))
 */
export function createConsoleHandler(emulator: ConsoleEmulator, options: ConsoleOptions): ConsoleHandler {
  if (typeof options?.token !== 'string' || options.token.length < 8) {
    // not invalidOption(): it would echo the value, and a token is a secret even when it is too short
    throw new ScfGracefulError('SCFG_ERR_INVALID_OPTION', 'createConsoleHandler: option "token" must be a string of at least 8 characters', { details: { option: 'token' } })
  }
  const base = (options.basePath ?? '/console').replace(/\/$/, '')
  const maxBody = options.maxBodyBytes ?? 256 * 1024
  const streams = createStreams(emulator)
  const offset = emulator.utcOffsetMinutes ?? 480
  const escalations = createEscalations(() => {
    // the event ended meanwhile (FailedOperation.AsyncEventStatus) or the emulator is closing: nothing to do
  })

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'InternalError', message: (err as Error)?.message ?? String(err) } })
      else res.destroy()
    })
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console.local')
    let path = url.pathname
    if (path !== base && !path.startsWith(`${base}/`)) return sendJson(res, 404, { error: { code: 'NotFound', message: 'Not a console path.' } })
    path = path.slice(base.length) || '/'
    const isPage = path === '/' || path === '/index.html'

    const token = tokenOf(req, url)
    if (token === undefined || !tokenMatches(token, options.token)) {
      const status = token === undefined ? 401 : 403
      const message = token === undefined ? 'This console needs its token: open the console URL that `scf-graceful local` printed (it ends with ?token=...).' : 'The console token is wrong: open the console URL that `scf-graceful local` printed.'
      if (isPage) return sendHtml(res, status, refusedPage(status, message))
      return sendJson(res, status, { error: { code: status === 401 ? 'Unauthorized' : 'Forbidden', message } }, status === 401 ? { 'WWW-Authenticate': 'Bearer realm="scf-graceful console"' } : {})
    }
    // another site's page in the same browser must not drive the console (the token is the main guard)
    if (!sameOrigin(req)) return sendJson(res, 403, { error: { code: 'Forbidden', message: 'Cross-origin requests are refused.' } })

    if (req.method === 'GET' || req.method === 'HEAD') {
      if (isPage) return sendHtml(res, 200, await renderPage())
      if (path === '/api/functions') return sendJson(res, 200, { functions: emulator.listFunctions() })
      if (path === '/api/events') return listEvents(url, res)
      if (path === '/api/timeline') return timeline(url, res)
      if (path === '/api/stream') return streams.open(req, res, url.searchParams.get('requestId') ?? undefined)
      const m = /^\/api\/events\/([^/]+)(\/logs)?$/.exec(path)
      if (m) {
        const id = decodeURIComponent(m[1] as string)
        const record = emulator.getEvent?.(id)
        const lines = emulator.getEventLogs(id)
        if (!record && !lines.length) return sendJson(res, 404, { error: { code: 'ResourceNotFound.AsyncEvent', message: `Async event ${JSON.stringify(id.slice(0, 64))} does not exist.` } })
        if (m[2]) return sendJson(res, 200, { requestId: id, lines })
        return sendJson(res, 200, { event: record ?? null })
      }
      return sendJson(res, 404, { error: { code: 'NotFound', message: `No console endpoint ${path}.` } })
    }
    if (req.method === 'POST') {
      if (path !== '/api/invoke' && path !== '/api/terminate') return sendJson(res, 404, { error: { code: 'NotFound', message: `No console endpoint ${path}.` } })
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
      if (type !== 'application/json') return sendJson(res, 415, { error: { code: 'InvalidParameter', message: 'Send a JSON body (Content-Type: application/json).' } })
      let body: Record<string, unknown>
      try {
        body = JSON.parse((await readBody(req, maxBody)).toString('utf8')) as Record<string, unknown>
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object')
      } catch (err) {
        const tooLarge = err instanceof BodyTooLargeError
        return sendJson(res, tooLarge ? 413 : 400, { error: { code: 'InvalidParameter', message: tooLarge ? `The body is over ${maxBody} bytes.` : 'The body must be a JSON object.' } })
      }
      return path === '/api/invoke' ? invoke(body, res) : terminate(body, res)
    }
    return sendJson(res, 405, { error: { code: 'MethodNotAllowed', message: 'Use GET or POST.' } }, { Allow: 'GET, HEAD, POST' })
  }

  async function timeline(url: URL, res: ServerResponse): Promise<void> {
    try {
      sendJson(res, 200, await buildTimeline(emulator, url.searchParams.get('function') ?? '', url.searchParams.get('namespace') || 'default'))
    } catch (err) {
      sendApiError(res, err)
    }
  }

  async function listEvents(url: URL, res: ServerResponse): Promise<void> {
    const q = url.searchParams
    const params: Record<string, unknown> = { FunctionName: q.get('function') ?? '' }
    const str = (name: string, param: string) => {
      const v = q.get(name)
      if (v) params[param] = v
    }
    str('namespace', 'Namespace')
    str('qualifier', 'Qualifier')
    str('order', 'Order')
    str('orderby', 'Orderby')
    str('requestId', 'InvokeRequestId')
    const statuses = q.getAll('status').filter(Boolean)
    if (statuses.length) params.Status = statuses
    const types = q.getAll('invokeType').filter(Boolean)
    if (types.length) params.InvokeType = types
    for (const [name, param] of [['offset', 'Offset'], ['limit', 'Limit']] as const) {
      const v = q.get(name)
      if (v !== null && v !== '') params[param] = /^-?\d+$/.test(v) ? Number(v) : v
    }
    const now = Date.now()
    for (const [from, to, param] of [['startFrom', 'startBefore', 'StartTimeInterval'], ['endFrom', 'endBefore', 'EndTimeInterval']] as const) {
      const a = q.get(from)
      const b = q.get(to)
      if (!a && !b) continue
      // the API reads `YYYY-MM-DD HH:MM:SS` in its own zone; the page sends ms since epoch
      params[param] = { Start: apiTime(a ? Number(a) : now - 3 * 86_400_000, offset), End: apiTime(b ? Number(b) : now + 86_400_000, offset) }
    }
    try {
      const page = (await emulator.call('ListAsyncEvents', params)) as { TotalCount: number; EventList: Array<Record<string, unknown>> }
      const events = page.EventList.map((e) => {
        const record = emulator.getEvent?.(e.InvokeRequestId as string)
        return { ...e, ...(record ? { StatusCode: record.statusCode, StartMs: record.startTime, EndMs: record.endTime } : {}) }
      })
      // the numbers on the status chips: the same filters, one status each (TotalCount comes from counters, cheap)
      const counts: Record<string, number> = {}
      const { Status: _status, Offset: _offset, ...rest } = params
      for (const status of STATUSES) counts[status] = ((await emulator.call('ListAsyncEvents', { ...rest, Status: [status], Limit: 1 })) as { TotalCount: number }).TotalCount
      const body: EventsPage = { TotalCount: page.TotalCount, EventList: events as unknown as EventsPage['EventList'], Counts: counts, Escalations: escalations.pending() }
      sendJson(res, 200, body)
    } catch (err) {
      sendApiError(res, err)
    }
  }

  async function invoke(body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    const payload = body.payload === undefined ? '{}' : typeof body.payload === 'string' ? body.payload : JSON.stringify(body.payload)
    const params: Record<string, unknown> = { FunctionName: body.functionName, InvocationType: body.invocationType ?? 'Event', ClientContext: payload }
    if (body.namespace) params.Namespace = body.namespace
    if (params.InvocationType === 'RequestResponse') params.LogType = 'Tail'
    try {
      sendJson(res, 200, await emulator.call('Invoke', params))
    } catch (err) {
      sendApiError(res, err)
    }
  }

  async function terminate(body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    const many = Array.isArray(body.requestIds)
    const ids = (many ? (body.requestIds as unknown[]) : [body.requestId]).filter((id): id is string => typeof id === 'string')
    if (!ids.length || ids.length !== (many ? (body.requestIds as unknown[]).length : 1)) return sendJson(res, 400, { error: { code: 'InvalidParameter', message: 'Give requestId (a string) or requestIds (an array of strings).' } })
    if (ids.length > MAX_BULK) return sendJson(res, 400, { error: { code: 'InvalidParameter', message: `At most ${MAX_BULK} events at once, got ${ids.length}.` } })
    const grace = body.grace === true
    const escalateAfterMs = body.escalateAfterMs
    if (escalateAfterMs !== undefined && (!grace || typeof escalateAfterMs !== 'number' || !Number.isFinite(escalateAfterMs) || escalateAfterMs < 0 || escalateAfterMs > 24 * 3_600_000)) {
      return sendJson(res, 400, { error: { code: 'InvalidParameter', message: 'escalateAfterMs goes with grace: true and is 0 to 86400000 ms.' } })
    }
    const base: Record<string, unknown> = { FunctionName: body.functionName }
    if (body.namespace) base.Namespace = body.namespace
    const results: TerminateResult[] = []
    for (const requestId of ids) {
      try {
        await emulator.call('TerminateAsyncEvent', { ...base, InvokeRequestId: requestId, GraceShutdown: grace })
        const result: TerminateResult = { requestId, ok: true, event: emulator.getEvent?.(requestId) ?? null }
        if (grace && escalateAfterMs && result.event?.status === 'RUNNING') {
          result.escalateAt = escalations.schedule(requestId, escalateAfterMs, async () => {
            if (emulator.getEvent?.(requestId)?.status !== 'RUNNING') return
            await emulator.call('TerminateAsyncEvent', { ...base, InvokeRequestId: requestId, GraceShutdown: false })
          })
        } else if (!grace) {
          escalations.cancel(requestId)
        }
        results.push(result)
      } catch (err) {
        const e = err as { message?: unknown }
        // one event: the API's error as the response, as before; several: each event's outcome
        if (!many) return sendApiError(res, err)
        results.push({ requestId, ok: false, event: emulator.getEvent?.(requestId) ?? null, error: { code: apiCodeOf(err), message: typeof e?.message === 'string' ? e.message : String(err) } })
      }
    }
    const first = results[0] as TerminateResult
    sendJson(res, 200, { ok: results.every((r) => r.ok), event: many ? null : first.event, results })
  }

  return Object.assign(handler, {
    close: () => {
      escalations.close()
      streams.close()
    },
  })
}

/** No Origin (curl, the CLI, same-origin GETs) or one naming this host. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin
  if (!origin) return true
  try {
    return new URL(origin).host === req.headers.host
  } catch {
    return false
  }
}

function apiTime(ms: number, offsetMinutes: number): string {
  const iso = new Date((Number.isFinite(ms) ? ms : 0) + offsetMinutes * 60_000).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
}

/** The Tencent Cloud code of an API error (the emulator's ApiError keeps it in `apiCode`; `code` is its SCFG_ERR_ one). */
function apiCodeOf(err: unknown): string {
  const e = err as { code?: unknown; apiCode?: unknown }
  if (typeof e?.apiCode === 'string') return e.apiCode
  return typeof e?.code === 'string' && !e.code.startsWith('SCFG_ERR_') ? e.code : 'InternalError'
}

function sendApiError(res: ServerResponse, err: unknown): void {
  const e = err as { message?: unknown }
  const code = apiCodeOf(err)
  const status = code.startsWith('ResourceNotFound') ? 404 : code.startsWith('FailedOperation') ? 409 : code === 'RequestLimitExceeded' ? 429 : code === 'InternalError' ? 500 : 400
  sendJson(res, status, { error: { code, message: typeof e?.message === 'string' ? e.message : String(err) } })
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return
  const text = JSON.stringify(body)
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

function sendHtml(res: ServerResponse, status: number, page: { html: string; nonce: string }): void {
  if (res.headersSent) return
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(page.html),
    'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${page.nonce}'; style-src 'nonce-${page.nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  })
  res.end(page.html)
}

function refusedPage(status: number, message: string): { html: string; nonce: string } {
  const nonce = 'refused'
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status} · scf-graceful console</title>
<style nonce="${nonce}">body{font:16px/1.5 system-ui,sans-serif;margin:15vh auto;max-width:36rem;padding:0 1rem;color:#1f2937}h1{font-size:1.25rem}code{background:#f3f4f6;padding:.1rem .3rem;border-radius:4px}</style>
</head><body><h1>${status === 401 ? 'Token needed' : 'Wrong token'}</h1><p>${message.replace(/`([^`]+)`/g, '<code>$1</code>')}</p></body></html>`
  return { html, nonce }
}

export type { EventRecord }
