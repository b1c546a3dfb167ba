import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { Agent, request, type IncomingMessage } from 'node:http'
import { connect, createServer } from 'node:net'
import { ScfGracefulError } from '../errors.js'
import { scfStatus } from '../scf/status.js'
import { BaseInstance } from './base-instance.js'
import { instanceEnv } from './instance-options.js'
import type { InstanceProcess } from './instance-process.js'
import { InvocationError } from './invocation-error.js'
import type { FunctionInstance, InvokeOptions } from './types.js'

/**
 * An image-deployment instance: `node ENTRY` with a free PORT, an HTTP server the harness calls the way SCF does
 * (`POST /event-invoke`, context in X-Scf-* headers). One instance serves several invocations at once.
 */

/** SCF's limit for an image function to start listening. */
const START_TIMEOUT_MS = 30_000
const POLL_MS = 20
/** How long to wait for the process's exit after the connection broke, to tell 439 from a plain disconnect. */
const EXIT_AFTER_RESET_MS = 2000

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref())

class ImageInstance extends BaseInstance {
  readonly mode = 'image' as const
  private port = 0
  /** Told to stop: an image server drains and exits after SIGTERM/SIGINT, so no new event should be routed to it. */
  private stopping = false
  // SCF keeps connections to the container open between invocations; so does the harness
  private readonly agent = new Agent({ keepAlive: true, maxSockets: Infinity })

  async start(): Promise<void> {
    const o = this.host.options
    this.port = await freePort()
    const env = { ...instanceEnv(o, this.host.tmpDir), PORT: String(this.port) }
    const child = spawn(o.execPath, [o.entry], { cwd: o.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    child.once('error', (err) => this.host.log('stderr', `could not spawn ${o.entry}: ${err.message}`))
    this.host.attach(child)
    const deadline = performance.now() + START_TIMEOUT_MS
    for (;;) {
      if (this.host.isExited) {
        const info = await this.host.exited
        throw new ScfGracefulError('SCFG_ERR_INSTANCE_START', `${o.entry} exited before listening on port ${this.port} (code ${info.code}, signal ${info.signal}): ${this.lastLines()}`)
      }
      if (await canConnect(this.port)) return
      if (performance.now() > deadline) {
        await this.host.kill('stopped')
        throw new ScfGracefulError('SCFG_ERR_INSTANCE_START', `${o.entry} did not listen on port ${this.port} (the PORT environment variable) within ${START_TIMEOUT_MS} ms (SCF reports 446): ${this.lastLines()}`)
      }
      await sleep(POLL_MS)
    }
  }

  private lastLines(): string {
    return this.host.logs.slice(-10).map((l) => l.line).join(' | ') || '(no output)'
  }

  private headers(requestId: string, timeoutMs: number, length: number): Record<string, string> {
    const o = this.host.options
    const env = instanceEnv(o, this.host.tmpDir)
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(length),
      'x-scf-request-id': requestId,
      'x-scf-memory': String(o.memoryMb),
      // seconds, as SCF configures timeouts
      'x-scf-timeout': String(timeoutMs / 1000),
      'x-scf-name': o.functionName,
      'x-scf-version': o.qualifier,
      'x-scf-namespace': o.namespace,
    }
    if (env.TENCENTCLOUD_REGION) headers['x-scf-region'] = env.TENCENTCLOUD_REGION
    if (env.TENCENTCLOUD_APPID) headers['x-scf-appid'] = env.TENCENTCLOUD_APPID
    if (env.TENCENTCLOUD_UIN) headers['x-scf-uin'] = env.TENCENTCLOUD_UIN
    // the platform hands image functions their temporary credentials in headers, not in the environment
    if (env.TENCENTCLOUD_SECRETID) headers['x-scf-secret-id'] = env.TENCENTCLOUD_SECRETID
    if (env.TENCENTCLOUD_SECRETKEY) headers['x-scf-secret-key'] = env.TENCENTCLOUD_SECRETKEY
    if (env.TENCENTCLOUD_SESSIONTOKEN) headers['x-scf-session-token'] = env.TENCENTCLOUD_SESSIONTOKEN
    return headers
  }

  invoke(event: unknown, options: InvokeOptions = {}): Promise<unknown> {
    const requestId = options.requestId ?? randomUUID()
    if (this.host.isExited) return Promise.reject(new InvocationError('SCFG_ERR_INSTANCE_EXITED', scfStatus.CONTAINER_STATE_EXITED, requestId, 'the instance has exited'))
    const timeoutMs = options.timeoutMs ?? this.host.options.timeoutMs
    const body = Buffer.from(JSON.stringify(event === undefined ? null : event))
    const end = this.host.begin(requestId)
    const running = new Promise<unknown>((resolve, reject) => {
      const cancelTimeout = this.host.killAfter(timeoutMs)
      let done = false
      const finish = (fn: () => void) => {
        if (done) return
        done = true
        cancelTimeout()
        fn()
      }
      const lost = (err: Error) => {
        if (done) return
        void this.connectionLost(requestId, err).then((error) => finish(() => reject(error)))
      }
      const req = request({ host: '127.0.0.1', port: this.port, method: 'POST', path: '/event-invoke', headers: this.headers(requestId, timeoutMs, body.length), agent: this.agent }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.once('aborted', () => lost(new Error('response aborted')))
        res.once('error', lost)
        res.once('end', () => {
          if (!res.complete) return lost(new Error('response cut short'))
          // what the server logged before it answered is in the stdio pipes already (a pipe write is synchronous on
          // Linux), but the response can be read first: two loop turns let the pipes be read too
          void afterTwoTurns().then(() => finish(() => {
            try {
              resolve(readResult(requestId, res, Buffer.concat(chunks)))
            } catch (err) {
              reject(err)
            }
          }))
        })
      })
      req.once('error', lost)
      req.end(body)
    })
    return this.track(running.finally(end))
  }

  /** The connection broke without a response: the process died (439), was killed (433/499), or just hung up. */
  private async connectionLost(requestId: string, err: Error): Promise<InvocationError> {
    let timer: NodeJS.Timeout | undefined
    const info = await Promise.race([
      this.host.exited,
      new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), EXIT_AFTER_RESET_MS)
        timer.unref()
      }),
    ])
    clearTimeout(timer)
    if (info) return this.host.exitError(requestId, info)
    return new InvocationError('SCFG_ERR_INSTANCE_EXITED', scfStatus.INTERNAL_ERROR, requestId, `the function closed the connection without a response: ${err.message}`, { cause: err })
  }

  /** True once the process exited, or once it was told to stop (it is draining and about to exit). */
  override get isExited(): boolean {
    return this.host.isExited || this.stopping
  }

  override signal(name: NodeJS.Signals): boolean {
    const delivered = super.signal(name)
    if (delivered && (name === 'SIGTERM' || name === 'SIGINT' || name === 'SIGKILL')) this.stopping = true
    return delivered
  }

  override async stop(): Promise<void> {
    await super.stop()
    this.agent.destroy()
  }

  override async terminate(options: { grace?: boolean; graceMs?: number } = {}) {
    this.stopping = true
    const info = await super.terminate(options)
    if (this.host.isExited) this.agent.destroy()
    return info
  }
}

/** Maps the HTTP answer of /event-invoke to the invocation's result or error (2xx = success, as SCF reads it). */
function readResult(requestId: string, res: IncomingMessage, body: Buffer): unknown {
  const status = res.statusCode ?? 0
  const type = String(res.headers['content-type'] ?? '')
  if (status >= 200 && status < 300) {
    if (body.length === 0) return null
    if (type.includes('json')) return JSON.parse(body.toString('utf8'))
    if (type.startsWith('text/')) return body.toString('utf8')
    return body
  }
  let parsed: { errorCode?: string; errorMessage?: string; errorType?: string } | undefined
  if (type.includes('json')) {
    try {
      parsed = JSON.parse(body.toString('utf8'))
    } catch {
      parsed = undefined
    }
  }
  const message = parsed?.errorMessage ?? (body.length ? body.toString('utf8').slice(0, 1000) : `HTTP ${status}`)
  if (status === 503) throw new InvocationError('SCFG_ERR_INSTANCE_EXITED', scfStatus.CONTAINER_STATE_EXITED, requestId, `the instance is shutting down (HTTP 503): ${message}`)
  if (parsed?.errorCode === 'SCFG_ERR_RESPONSE_TOO_LARGE') throw new InvocationError('SCFG_ERR_RESPONSE_TOO_LARGE', scfStatus.RESPONSE_TOO_LARGE, requestId, message)
  throw new InvocationError('SCFG_ERR_HANDLER_FAILED', scfStatus.USER_CODE_EXCEPTION, requestId, message, { errorType: parsed?.errorType })
}

export async function startImageInstance(host: InstanceProcess): Promise<FunctionInstance> {
  const instance = new ImageInstance(host)
  await instance.start()
  return instance
}

/** Resolves after two event-loop turns, each with a poll phase, so data already waiting on a pipe gets read. */
function afterTwoTurns(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)))
}
