import { createServer, type Server } from 'node:http'
import express from 'express'
import { invalidOption } from '../errors.js'
import { fields } from '../log.js'
import type { Handler } from '../runtime/function-runtime.js'
import { timeoutSignal } from '../shutdown/controller.js'
import { createEventInvokeEndpoint, type EventInvokeOptions } from './router.js'

/** Options of `serveEventFunction()`. */
export interface ServeEventFunctionOptions extends EventInvokeOptions {
  /**
   * Port to listen on. SCF sends events to 9000.
   * @default Number(process.env.PORT) when set, else 9000
   */
  port?: number
  /**
   * Address to listen on. SCF reaches the container from outside, so never only 127.0.0.1 there.
   * @default '0.0.0.0'
   */
  host?: string
}

/** A running image-function server. */
export interface EventFunctionServer {
  readonly server: Server
  /** Where to reach it from this machine (`http://127.0.0.1:PORT` when listening on 0.0.0.0); empty until listening. */
  readonly url: string
  /** Resolves once the server listens; rejects when it cannot (port taken: SCF would report 446). */
  readonly ready: Promise<void>
  /**
   * Stops this server without ending the process: it stops listening, requests on connections still open get 503,
   * idle keep-alive sockets close at once and busy ones after their response, bounded by `graceMs` (then every
   * socket is cut). In-flight invocations are not aborted (use `shutdown()` from 'scf-graceful' for the whole cycle).
   */
  close(): Promise<void>
}

const DEFAULT_PORT = 9000

function resolvePort(option: number | undefined): number {
  if (option !== undefined) {
    if (!Number.isInteger(option) || option < 0 || option > 65535) throw invalidOption('port', option, 'a port number 0-65535')
    return option
  }
  const env = process.env.PORT
  if (env === undefined || env === '') return DEFAULT_PORT
  const n = Number(env)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw invalidOption('PORT (environment)', env, 'a port number 0-65535')
  return n
}

/** Stops listening, closes idle sockets now and busy ones after their response; cuts the rest when `signal` aborts. */
function closeServer(server: Server, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const cut = () => server.closeAllConnections()
    if (signal.aborted) cut()
    else signal.addEventListener('abort', cut, { once: true })
    const done = () => {
      signal.removeEventListener('abort', cut)
      resolve()
    }
    if (server.listening) server.close(() => done())
    else {
      cut()
      done()
    }
    server.closeIdleConnections()
  })
}

/**
 * Serves `POST /event-invoke` for an SCF image function on `0.0.0.0:9000` (the `PORT` environment variable or the
 * `port` option override it). On SIGTERM: new requests get 503 with `Connection: close`, in-flight invocations are
 * aborted and still answered, idle keep-alive sockets close at once and busy ones after their response, the
 * `onShutdown` hooks and the persistence flush run, then the process exits 0 (`exitAfterShutdown`, default true).
 *
 * @example
 * import { serveEventFunction } from 'scf-graceful/express'
 *
 * serveEventFunction(async (event, context, inv) => {
 *   for (const item of event.items) {
 *     if (inv.shouldStop) return { stopped: true }
 *     await work(item, { signal: inv.signal })
 *   }
 *   return { done: true }
 * })
 */
export function serveEventFunction<TEvent = any, TResult = unknown>(handler: Handler<TEvent, TResult>, options: ServeEventFunctionOptions = {}): EventFunctionServer {
  const port = resolvePort(options.port)
  const host = options.host ?? '0.0.0.0'
  if (typeof host !== 'string' || host === '') throw invalidOption('host', host, 'an address such as "0.0.0.0"')
  // an image exits after the cycle unless told otherwise: the endpoint's shape default
  const endpoint = createEventInvokeEndpoint(handler, options, 'serveEventFunction()')
  const control = endpoint.control
  const logger = () => control.logger

  const app = express()
  app.disable('x-powered-by')
  app.disable('etag')
  // every path answers 503 while draining, not only /event-invoke
  app.use(endpoint.gate)
  app.use(endpoint.router)
  const server = createServer(app)

  let closing: Promise<void> | undefined
  const offParticipant = control.addParticipant({
    onStopping() {
      // idle keep-alive sockets go at once; busy ones get `Connection: close` on their response
      server.closeIdleConnections()
    },
    onFinalize(signal) {
      return (closing ??= closeServer(server, signal))
    },
  })

  let url = ''
  const ready = new Promise<void>((resolve, reject) => {
    server.once('listening', () => {
      const address = server.address()
      const actualPort = typeof address === 'object' && address ? address.port : port
      const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
      url = `http://${shown}:${actualPort}`
      logger().info(`listening ${fields({ host, port: actualPort, startupMs: Math.round(performance.now()) })}`)
      resolve()
    })
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (server.listening) return
      logger().error(`could not listen ${fields({ host, port, code: err.code })}: ${err.message}`)
      // nothing else keeps the process alive: it ends with this code, as SCF's 446 would
      process.exitCode = 1
      reject(err)
    })
  })
  // awaiting `ready` is optional; a failed listen is already logged and sets the exit code
  ready.catch(() => {})
  // listen at once, restore or not: SCF gives an image 30 s to listen (else 446), and a slow or failing start-up
  // restore (3 attempts with back-off, each bounded by the store's timeouts) can take longer. An event that arrives
  // meanwhile waits for the restore inside runtime.invoke() (it never runs on a half-restored root: a failed restore
  // answers 500 SCFG_ERR_RESTORE_FAILED), and it is part of a SIGTERM's cycle while it waits.
  // (A cycle already running when this is called: the server is being closed, it must not start listening.)
  if (!closing && control.state === 'running') server.listen(port, host)

  return {
    server,
    get url() {
      return url
    },
    ready,
    close() {
      // this server leaves the shutdown cycle: a later SIGTERM neither waits for its responses nor closes it again.
      // (The persistence participant stays: the files in root are still there to be flushed.)
      endpoint.close()
      offParticipant()
      return (closing ??= closeServer(server, timeoutSignal(control.graceMs)))
    },
  }
}
