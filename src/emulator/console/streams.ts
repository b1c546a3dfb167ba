/**
 * Live updates for the console as Server-Sent Events. One listener per emulator event type, fanned out to every open
 * stream (so many tabs never trip the EventEmitter's listener warning), heartbeats so proxies and browsers keep the
 * connection, and a per-event stream that replays the log so far before it goes live.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { EventRecord, FunctionSummary, LogLine } from './shared.js'

export type { EventRecord }

interface LogEvent {
  requestId: string
  line: string
  stream: string
  time: number
}

/** What the console needs from the emulator (src/emulator/emulator.ts has all of it). */
export interface ConsoleEmulator {
  call(action: string, params: object): Promise<Record<string, unknown>>
  getEventLogs(requestId: string): LogLine[]
  getEvent?(requestId: string): EventRecord | undefined
  listFunctions(): FunctionSummary[]
  on(event: 'event-change' | 'log', listener: (payload: never) => void): unknown
  off(event: 'event-change' | 'log', listener: (payload: never) => void): unknown
  readonly utcOffsetMinutes?: number
}

interface Client {
  res: ServerResponse
  /** only this event's records and logs */
  requestId: string | undefined
}

const HEARTBEAT_MS = 15_000
const MAX_CLIENTS = 64

export interface Streams {
  open(req: IncomingMessage, res: ServerResponse, requestId: string | undefined): void
  close(): void
}

export function createStreams(emulator: ConsoleEmulator): Streams {
  const clients = new Set<Client>()
  let heartbeat: NodeJS.Timeout | undefined

  const onChange = (record: EventRecord) => {
    for (const c of clients) {
      if (c.requestId !== undefined && c.requestId !== record.requestId) continue
      write(c.res, 'event', record)
      if (c.requestId !== undefined && record.status !== 'RUNNING') end(c)
    }
  }
  const onLog = (log: LogEvent) => {
    for (const c of clients) if (c.requestId === log.requestId) write(c.res, 'log', { time: log.time, stream: log.stream, line: log.line })
  }

  const attach = () => {
    emulator.on('event-change', onChange as (p: never) => void)
    emulator.on('log', onLog as (p: never) => void)
    heartbeat = setInterval(() => {
      for (const c of clients) c.res.write(': ping\n\n')
    }, HEARTBEAT_MS)
    heartbeat.unref()
  }
  const detach = () => {
    emulator.off('event-change', onChange as (p: never) => void)
    emulator.off('log', onLog as (p: never) => void)
    clearInterval(heartbeat)
    heartbeat = undefined
  }
  const end = (c: Client) => {
    write(c.res, 'end', {})
    c.res.end()
    remove(c)
  }
  const remove = (c: Client) => {
    if (!clients.delete(c)) return
    if (clients.size === 0) detach()
  }

  return {
    open(req, res, requestId) {
      let record: EventRecord | undefined
      if (requestId !== undefined) {
        record = emulator.getEvent?.(requestId)
        if (!record) {
          const body = JSON.stringify({ error: { code: 'ResourceNotFound.AsyncEvent', message: `Async event ${JSON.stringify(requestId.slice(0, 64))} does not exist.` } })
          res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }).end(body)
          return
        }
      }
      if (clients.size >= MAX_CLIENTS) {
        res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8', 'Retry-After': '5' }).end(JSON.stringify({ error: { code: 'TooManyStreams', message: `At most ${MAX_CLIENTS} live streams at once.` } }))
        return
      }
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      })
      res.write('retry: 2000\n\n')
      const client: Client = { res, requestId }
      // backlog and subscription happen in the same tick: no line can fall between them (emits are synchronous)
      if (record) {
        for (const l of emulator.getEventLogs(record.requestId)) write(res, 'log', l)
        write(res, 'event', record)
        if (record.status !== 'RUNNING') {
          write(res, 'end', {})
          res.end()
          return
        }
      } else {
        write(res, 'hello', { time: Date.now() })
      }
      if (clients.size === 0) attach()
      clients.add(client)
      req.on('close', () => remove(client))
      res.on('error', () => remove(client))
    },
    close() {
      for (const c of [...clients]) {
        c.res.end()
        remove(c)
      }
    },
  }
}

function write(res: ServerResponse, event: string, data: unknown): void {
  if (res.writableEnded || res.destroyed) return
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
}
