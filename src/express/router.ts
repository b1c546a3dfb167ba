import type { IncomingMessage, ServerResponse } from 'node:http'
import express, { type NextFunction, type Request, type Response, type Router } from 'express'
import { invalidOption } from '../errors.js'
import { fields, registerSecret } from '../log.js'
import { createDrain } from '../runtime/drain.js'
import { createFunctionRuntime, type Handler, type RuntimeOptions } from '../runtime/function-runtime.js'
import { contextFromHeaders } from '../scf/context.js'
import type { ShutdownControl } from '../shutdown/controller.js'
import { DEFAULT_RESPONSE_LIMIT, encodeResult, errorBody, jsonBody, sendBody, sendError, type EncodedBody } from './respond.js'

/** Options of `eventInvokeRouter()` and `serveEventFunction()`. */
export interface EventInvokeOptions extends RuntimeOptions {
  /**
   * Largest event body accepted, in bytes; a bigger one is answered 413 (SCFG_ERR_EVENT_TOO_LARGE).
   * @default 6291456 (6 MB, SCF's synchronous payload limit)
   */
  bodyLimit?: number
  /**
   * Largest response body, in bytes; a bigger result is answered 500 (SCFG_ERR_RESPONSE_TOO_LARGE, SCF's 407).
   * @default 6291456 (6 MB)
   */
  responseLimit?: number
}

const DEFAULT_BODY_LIMIT = 6 * 1024 * 1024
const SECRET_HEADERS = ['x-scf-secret-id', 'x-scf-secret-key', 'x-scf-session-token'] as const
/** How long a refused request's body is read off before the 503 goes out anyway. */
const DRAIN_BODY_MS = 1000

/** The pieces serveEventFunction shares with the router: the drain state and the gate that answers 503. */
export interface EventInvokeEndpoint {
  router: Router
  /** True from the start of a shutdown cycle (or close()) until the controller re-arms. */
  readonly isDraining: boolean
  startDraining(): void
  /** Express middleware: 503 + `Connection: close` for every request while draining. */
  gate(req: IncomingMessage, res: ServerResponse, next: () => void): void
  /** Resolves once the start-up restore round is over (at once without persistence). Never rejects. */
  ready: Promise<void>
  /** The process's shutdown controller, as adapters see it. */
  control: ShutdownControl
  /** Leaves the shutdown cycle (the server stopped): the cycle no longer waits for this endpoint's responses. */
  close(): void
}

function checkLimit(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw invalidOption(name, value, 'a whole number of bytes > 0')
  return value
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** Answers 503 after reading off the request body, so closing the socket cannot reset a client still sending it. */
export function refuseWhileDraining(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close')
  const send = () => {
    clearTimeout(timer)
    sendError(res, 503, { errorCode: 'SCFG_ERR_SERVER_STOPPING', errorMessage: 'the function is shutting down; retry on another instance', requestId: firstHeader(req.headers['x-scf-request-id']) })
  }
  const timer = setTimeout(send, DRAIN_BODY_MS)
  timer.unref()
  if (req.complete || req.readableEnded) return send()
  req.once('end', send)
  req.once('error', send)
  req.resume()
}

export function createEventInvokeEndpoint<TEvent, TResult>(handler: Handler<TEvent, TResult>, options: EventInvokeOptions, name = 'eventInvokeRouter()'): EventInvokeEndpoint {
  const bodyLimit = checkLimit('bodyLimit', options.bodyLimit) ?? DEFAULT_BODY_LIMIT
  const responseLimit = checkLimit('responseLimit', options.responseLimit) ?? DEFAULT_RESPONSE_LIMIT
  const runtime = createFunctionRuntime<TEvent, TResult>(handler, options, { name, exitAfterShutdown: true, awaitCycle: false })
  const control = runtime.control
  const logger = () => control.logger
  // the gate and the responses owed live in the runtime: this router only translates HTTP <-> (event, context)
  const drain = createDrain(control)

  const gate = (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    if (drain.isDraining) refuseWhileDraining(req, res)
    else next()
  }

  async function onInvoke(req: Request, res: Response): Promise<void> {
    // before anything could log: the credential headers must never show up in a log line (they rotate: the registry
    // keeps the recent ones only)
    for (const name of SECRET_HEADERS) registerSecret(firstHeader(req.headers[name]), { rotating: true })
    const context = contextFromHeaders(req.headers)
    const requestId = context.requestId
    let event: unknown
    if (Buffer.isBuffer(req.body)) {
      try {
        // an empty body is an empty event, as the SCF console's default test event
        event = req.body.length === 0 ? {} : JSON.parse(req.body.toString('utf8'))
      } catch (err) {
        logger().warn(`event malformed ${fields({ requestId, bytes: req.body.length })}: ${(err as Error).message}`)
        sendError(res, 400, { errorCode: 'SCFG_ERR_EVENT_MALFORMED', errorMessage: `the event is not valid JSON: ${(err as Error).message}`, requestId })
        return
      }
    } else {
      // a body parser mounted earlier in the user's app already read it
      event = req.body ?? {}
    }

    const exchange = drain.exchange()
    const onClose = () => {
      if (!res.writableFinished) exchange.clientGone()
    }
    res.once('close', onClose)
    try {
      let status = 200
      let out: EncodedBody
      try {
        const result = await runtime.invoke(event as TEvent, context, { exchange })
        out = encodeResult(result)
        if (out.bytes > responseLimit) {
          logger().error(`response too large ${fields({ requestId, bytes: out.bytes, limit: responseLimit })}`)
          status = 500
          out = jsonBody(JSON.stringify({ errorCode: 'SCFG_ERR_RESPONSE_TOO_LARGE', errorMessage: `ResponseTooLarge: the result is ${out.bytes} bytes, over the limit of ${responseLimit}`, requestId }))
        }
      } catch (err) {
        logger().error(`invocation failed ${fields({ requestId })} error=${(err as Error)?.stack ?? String(err)}`)
        status = 500
        out = jsonBody(JSON.stringify(errorBody(err, requestId)))
      }
      if (exchange.isClientGone) {
        logger().info(`client gone, response dropped ${fields({ requestId })}`)
        return
      }
      // draining may have begun while the handler ran: this socket closes after its response
      if (drain.isDraining) res.setHeader('Connection', 'close')
      sendBody(res, status, out)
    } finally {
      res.off('close', onClose)
      // owed until the bytes left: a response still being written is paid when its socket closes
      if (res.writableEnded && !res.writableFinished) res.once('close', () => exchange.settle())
      else exchange.settle()
    }
  }

  const router = express.Router()
  router
    .route('/event-invoke')
    .all(gate)
    .post(express.raw({ type: () => true, limit: bodyLimit }), onInvoke)
    .all((req: Request, res: Response) => {
      res.setHeader('Allow', 'POST')
      sendError(res, 405, { errorCode: 'SCFG_ERR_METHOD_NOT_ALLOWED', errorMessage: `${req.method} is not allowed on /event-invoke; use POST`, requestId: firstHeader(req.headers['x-scf-request-id']) })
    })
  router.use((err: Error & { type?: string; status?: number }, req: Request, res: Response, next: NextFunction) => {
    if (req.path !== '/event-invoke') return next(err)
    const requestId = firstHeader(req.headers['x-scf-request-id'])
    if (err.type === 'entity.too.large') {
      sendError(res, 413, { errorCode: 'SCFG_ERR_EVENT_TOO_LARGE', errorMessage: `the event is over the limit of ${bodyLimit} bytes`, requestId })
    } else if (err.type === 'request.aborted') {
      // the client went away while sending; nobody is left to answer
      res.destroy()
    } else {
      const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 400
      sendError(res, status, { errorCode: 'SCFG_ERR_EVENT_MALFORMED', errorMessage: `the event could not be read: ${err.message}`, requestId })
    }
  })

  return {
    router,
    get isDraining() {
      return drain.isDraining
    },
    startDraining: () => drain.startDraining(),
    gate,
    ready: runtime.ready.then(
      () => {},
      () => {},
    ),
    control,
    close() {
      drain.startDraining()
      drain.close()
    },
  }
}

/**
 * An Express 5 router with `POST /event-invoke`, the endpoint SCF calls on an image function: the body is the
 * event (JSON), the `X-Scf-*` headers are the context. Each invocation gets its own `inv.signal`, aborted on
 * SIGTERM, when the client goes away, and `timeoutMarginMs` before `X-Scf-Timeout`. While a shutdown cycle runs,
 * new requests get 503 with `Connection: close`; the cycle waits for the responses this router owes, then the
 * process exits 0 (`exitAfterShutdown`). Use `serveEventFunction` to also have idle keep-alive sockets closed.
 *
 * Result mapping: a string is sent as text/plain, a Buffer as application/octet-stream, anything else as JSON.
 * A thrown error is 500 `{ errorCode, errorMessage, errorType, requestId }` (no stack; the full error is logged).
 *
 * @example
 * import express from 'express'
 * import { eventInvokeRouter } from 'scf-graceful/express'
 *
 * const app = express()
 * app.use(eventInvokeRouter(async (event, context, inv) => ({ ok: true, id: context.requestId })))
 * app.listen(9000, '0.0.0.0')
 */
export function eventInvokeRouter<TEvent = any, TResult = unknown>(handler: Handler<TEvent, TResult>, options: EventInvokeOptions = {}): Router {
  return createEventInvokeEndpoint(handler, options).router
}
