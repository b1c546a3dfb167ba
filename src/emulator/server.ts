/**
 * The emulator's HTTP server: the API 3.0 endpoint on `POST /` and the web console under `/console` (token-protected,
 * served by ./console/index.js). Binds 127.0.0.1 unless told otherwise.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { invalidOption } from '../errors.js'
import type { Logger } from '../log.js'
import { createApiHandler } from './api.js'
import { createEmulator, type Emulator, type EmulatorOptions } from './emulator.js'
import { checkConsoleToken, persistedConsoleToken } from './console/token-file.js'

export interface LocalServerOptions extends Partial<EmulatorOptions> {
  /** Serve this emulator instead of creating one from the emulator options. */
  emulator?: Emulator
  /** @default 9001; 0 picks a free port */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
  /** Accepted credentials; without them a random pair is generated (see the result). */
  secretId?: string
  secretKey?: string
  /** Requests per second, one number for every action; false = no limit. @default Invoke/InvokeFunction 100, event APIs 20 */
  rateLimit?: number | false
  /** @default 300 */
  maxSkewSeconds?: number
  /**
   * The console's access token (at least 8 of A-Z a-z 0-9 . _ ~ -). @default the one kept in `<dataDir>/console-token`
   * (created on first start, mode 0600), so the console URL survives restarts; random without a data dir
   */
  consoleToken?: string
  /** Prints the start lines (API and console URLs) through this logger. */
  logger?: Logger | false
}

export interface LocalServer {
  readonly emulator: Emulator
  readonly server: Server
  readonly port: number
  /** `http://127.0.0.1:PORT` (the SDK's endpoint is `127.0.0.1:PORT` with protocol `http://`). */
  readonly url: string
  readonly consoleUrl: string
  readonly secretId: string
  readonly secretKey: string
  /** Closes the server and (if it created it) the emulator. */
  close(): Promise<void>
}

type ConsoleHandler = ((req: IncomingMessage, res: ServerResponse) => void) & { close?(): void }

/**
 * Starts the emulator's HTTP server.
 *
 * @example
 * const local = await startLocalServer({ port: 0, functions: [{ name: 'job', entry: './index.js', timeoutMs: 60_000 }] })
 * const client = new scf.v20180416.Client({ credential: { secretId: local.secretId, secretKey: local.secretKey },
 *   region: 'ap-guangzhou', profile: { httpProfile: { endpoint: `127.0.0.1:${local.port}`, protocol: 'http://' } } })
 */
export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const port = options.port ?? 9001
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidOption('port', port, 'an integer 0-65535')
  if ((options.secretId === undefined) !== (options.secretKey === undefined)) throw invalidOption('secretKey', options.secretKey === undefined ? undefined : '(set)', 'given together with secretId')
  const secretId = options.secretId ?? `AKIDLOCAL${randomBytes(12).toString('hex').toUpperCase()}`
  const secretKey = options.secretKey ?? randomBytes(24).toString('base64url')
  if (options.consoleToken !== undefined) checkConsoleToken(options.consoleToken)
  const owned = options.emulator === undefined
  const emulator = options.emulator ?? (await createEmulator({ ...options, functions: options.functions ?? [] }))
  // after the emulator took the data dir's lock: one writer of the token file
  let consoleToken: string
  try {
    consoleToken = options.consoleToken ?? (options.dataDir ? persistedConsoleToken(options.dataDir) : randomBytes(16).toString('hex'))
  } catch (err) {
    if (owned) await emulator.close()
    throw err
  }

  const api = createApiHandler(emulator, {
    credentials: new Map([[secretId, secretKey]]),
    ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
    ...(options.maxSkewSeconds === undefined ? {} : { maxSkewSeconds: options.maxSkewSeconds }),
  })
  let consoleHandler: Promise<ConsoleHandler | undefined> | undefined
  // loaded on the first /console request, so the API alone never pays for the page
  const loadConsole = (): Promise<ConsoleHandler | undefined> =>
    (consoleHandler ??= import('./console/index.js').then(
      // the console declares the emulator surface it uses structurally (see the comment at the top of emulator.ts)
      (m) => m.createConsoleHandler(emulator as unknown as Parameters<typeof m.createConsoleHandler>[0], { token: consoleToken }) as ConsoleHandler,
      () => undefined,
    ))

  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    if (path === '/console' || path.startsWith('/console/') || path.startsWith('/console?')) {
      loadConsole().then(
        (handler) => {
          if (handler) return handler(req, res)
          res.writeHead(404, { 'Content-Type': 'text/plain' }).end('The console is not available in this build.\n')
        },
        () => res.writeHead(500).end(),
      )
      return
    }
    api(req, res)
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  // a request Node cannot even parse still gets an API envelope (then the connection closes); the server keeps serving
  server.on('clientError', (_err, socket) => {
    if (!socket.writable) return socket.destroy()
    const body = JSON.stringify({ Response: { Error: { Code: 'InvalidRequest', Message: 'The HTTP request is malformed.' }, RequestId: randomUUID() } })
    socket.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  })
  const host = options.host ?? '127.0.0.1'
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    // a port in use: the emulator this call created (and its data dir lock) must not outlive the failed start
    if (owned) await emulator.close()
    throw err
  }
  const actualPort = (server.address() as AddressInfo).port
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  const url = `http://${shownHost}:${actualPort}`
  const consoleUrl = `${url}/console?token=${consoleToken}`
  if (options.logger) {
    options.logger.info(`API 3.0 endpoint: ${url} (SDK: endpoint '${shownHost}:${actualPort}', protocol 'http://')`)
    options.logger.info(`console: ${consoleUrl}`)
  }

  let closing: Promise<void> | undefined
  return {
    emulator,
    server,
    port: actualPort,
    url,
    consoleUrl,
    secretId,
    secretKey,
    close: () =>
      (closing ??= (async () => {
        const handler = consoleHandler && (await consoleHandler)
        handler?.close?.()
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          // keep-alive sockets would hold close() open; nothing is in flight that matters once we are told to stop
          for (const s of sockets) s.destroy()
        })
        if (owned) await emulator.close()
      })()),
  }
}
