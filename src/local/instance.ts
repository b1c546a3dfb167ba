import { fork, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, extname, join, resolve as resolvePath } from 'node:path'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ScfGracefulError, invalidOption } from '../errors.js'
import { scfStatus } from '../scf/status.js'
import { InvocationError } from './invocation-error.js'
import { HostInstance } from './host-instance.js'
import { RUNTIME_ENV, SYNC_MARK, type ChildMessage, type InvokeMessage } from './protocol.js'
import type { ExitInfo, FunctionInstance, FunctionMode, InvokeOptions, LogLine, StartFunctionOptions } from './types.js'

/**
 * One function instance = one child process, run the way SCF would run it. The harness (`scf-graceful/testing`)
 * and the local emulator both start instances through `startFunction`; nothing else in this package spawns functions.
 */

const DEFAULT_TIMEOUT_MS = 3000
const START_TIMEOUT_MS = 30_000
const SYNC_WAIT_MS = 1000
const DRAIN_WAIT_MS = 500
const LOG_LINES_KEPT = 10_000
const LOG_TRIM_STEP = 2_000

function here(): string {
  // the build shims import.meta.url for CJS; under vitest (source) it is the real one
  return dirname(fileURLToPath(import.meta.url))
}

/** Resolved options every mode shares. */
export interface ResolvedInstanceOptions {
  entry: string
  handler: string
  mode: FunctionMode
  env: Record<string, string>
  timeoutMs: number
  memoryMb: number
  functionName: string
  namespace: string
  qualifier: string
  tmpDir: string | undefined
  cwd: string
  onLog: ((line: LogLine) => void) | undefined
}

export function resolveInstanceOptions(options: StartFunctionOptions): ResolvedInstanceOptions {
  if (!options || typeof options !== 'object') throw invalidOption('options', options, 'an object with at least `entry`')
  if (typeof options.entry !== 'string' || options.entry === '') throw invalidOption('entry', options.entry, 'the path of the function module')
  const mode = options.mode ?? 'code'
  if (mode !== 'code' && mode !== 'image' && mode !== 'job') throw invalidOption('mode', mode, "'code', 'image' or 'job'")
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) throw invalidOption('timeoutMs', timeoutMs, 'a number of ms > 0')
  const entry = resolvePath(options.entry)
  return {
    entry,
    handler: options.handler ?? 'main_handler',
    mode,
    env: options.env ?? {},
    timeoutMs,
    memoryMb: options.memoryMb ?? 128,
    functionName: options.functionName ?? basename(entry, extname(entry)),
    namespace: options.namespace ?? 'default',
    qualifier: options.qualifier ?? '$LATEST',
    tmpDir: options.tmpDir,
    cwd: options.cwd ?? dirname(entry),
    onLog: options.onLog,
  }
}

/** The environment an instance runs with: SCF's variables, the instance's TMPDIR, the caller's additions. */
export function instanceEnv(o: ResolvedInstanceOptions, tmpDir: string): Record<string, string> {
  const base: Record<string, string> = {}
  for (const name of ['PATH', 'HOME', 'LANG', 'NODE_OPTIONS', 'SYSTEMROOT']) {
    const v = process.env[name]
    if (v !== undefined) base[name] = v
  }
  return {
    ...base,
    TMPDIR: tmpDir,
    SCF_FUNCTIONNAME: o.functionName,
    SCF_FUNCTIONVERSION: o.qualifier,
    SCF_NAMESPACE: o.namespace,
    TENCENTCLOUD_REGION: 'ap-guangzhou',
    TENCENTCLOUD_APPID: '1250000000',
    TENCENTCLOUD_UIN: '100000000001',
    ...o.env,
  }
}

/** The context object SCF's Node.js runtime passes to a handler. */
export function runtimeContext(o: ResolvedInstanceOptions, env: Record<string, string>, requestId: string, timeoutMs: number): Record<string, unknown> {
  const environ = Object.entries({ SCF_NAMESPACE: o.namespace, SCF_FUNCTIONNAME: o.functionName, SCF_FUNCTIONVERSION: o.qualifier, ...o.env })
    .map(([k, v]) => `${k}=${v}`)
    .join(';')
  return {
    callbackWaitsForEmptyEventLoop: true,
    memory_limit_in_mb: o.memoryMb,
    time_limit_in_ms: timeoutMs,
    request_id: requestId,
    environment: JSON.stringify({ SCF_NAMESPACE: o.namespace }),
    environ,
    function_version: o.qualifier,
    function_name: o.functionName,
    namespace: o.namespace,
    tencentcloud_region: env.TENCENTCLOUD_REGION,
    tencentcloud_appid: env.TENCENTCLOUD_APPID,
    tencentcloud_uin: env.TENCENTCLOUD_UIN,
  }
}

interface Pending {
  requestId: string
  resolve(value: unknown): void
  reject(error: unknown): void
  timer: NodeJS.Timeout
}

/**
 * The process side every mode shares: spawn, log capture, exit tracking, signals, termination, tmp dir.
 * Modes differ only in how an invocation reaches the process.
 */
export class ProcessHost {
  readonly id = randomUUID()
  readonly logs: LogLine[] = []
  child: ChildProcess | undefined
  exited!: Promise<ExitInfo>
  isExited = false
  /** Set when the instance was killed on purpose, so a running invocation reports the right status. */
  killCause: 'terminated' | 'timeout' | 'stopped' | undefined
  private readonly running = new Set<string>()
  private exitListeners = new Set<(info: ExitInfo) => void>()
  private readonly marks = new Map<string, number>()
  private readonly markWaiters = new Map<string, () => void>()

  constructor(
    readonly options: ResolvedInstanceOptions,
    readonly tmpDir: string,
    readonly ownsTmpDir: boolean,
  ) {}

  /** Spawns a process and starts capturing its output. */
  attach(child: ChildProcess): void {
    this.child = child
    this.isExited = false
    const capture = (stream: NodeJS.ReadableStream | null, name: LogLine['stream']) =>
      stream ? once(createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.log(name, line)), 'close') : undefined
    const drained = Promise.all([capture(child.stdout, 'stdout'), capture(child.stderr, 'stderr')])
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        // 'exit' can come before the last output was read: the exit counts once every line the process wrote is in
        // `logs` (bounded, since a grandchild that inherited the pipes can hold them open)
        void new Promise<void>((read) => {
          const bound = setTimeout(read, DRAIN_WAIT_MS)
          const done = () => (clearTimeout(bound), read())
          drained.then(done, done)
        }).then(() => {
          this.isExited = true
          const info = { code, signal }
          for (const l of this.exitListeners) l(info)
          resolve(info)
        })
      })
    })
  }

  onExit(listener: (info: ExitInfo) => void): () => void {
    this.exitListeners.add(listener)
    return () => this.exitListeners.delete(listener)
  }

  /** Adds a log line (the emulator also writes its [PLATFORM] lines through here). */
  log(stream: LogLine['stream'], line: string, requestId?: string): void {
    const mark = line.indexOf(SYNC_MARK)
    if (mark >= 0) {
      // a partial line the code left without a newline ends just before the marker
      if (mark > 0) this.log(stream, line.slice(0, mark), requestId)
      return this.mark(line.slice(mark + SYNC_MARK.length))
    }
    const only = this.running.size === 1 ? [...this.running][0] : undefined
    const entry: LogLine = { stream, line, time: Date.now(), requestId: requestId ?? only }
    this.logs.push(entry)
    // keep memory bounded for long-lived instances: the last 10,000 lines at least, trimmed in steps (a splice per
    // line would move 10,000 entries for every line a chatty function writes)
    if (this.logs.length > LOG_LINES_KEPT + LOG_TRIM_STEP) this.logs.splice(0, this.logs.length - LOG_LINES_KEPT)
    this.options.onLog?.(entry)
  }

  private mark(id: string): void {
    const seen = (this.marks.get(id) ?? 0) + 1
    this.marks.set(id, seen)
    if (seen === 2) this.markWaiters.get(id)?.()
  }

  /**
   * Resolves once the runtime's sync markers for `id` came through stdout and stderr, so every line it logged
   * before its result is in `logs` (bounded: a function that replaced process.stdout.write sends none).
   */
  synced(id: string): Promise<void> {
    if (this.marks.get(id) === 2) {
      this.marks.delete(id)
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.markWaiters.delete(id)
        this.marks.delete(id)
        resolve()
      }
      const timer = setTimeout(done, SYNC_WAIT_MS)
      timer.unref()
      this.markWaiters.set(id, done)
    })
  }

  begin(requestId: string): () => void {
    this.running.add(requestId)
    return () => this.running.delete(requestId)
  }

  get busy(): boolean {
    return this.running.size > 0
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  signal(name: NodeJS.Signals): boolean {
    if (!this.child || this.isExited) return false
    try {
      return this.child.kill(name)
    } catch {
      return false
    }
  }

  async kill(cause: ProcessHost['killCause']): Promise<ExitInfo> {
    this.killCause ??= cause
    if (!this.child || this.isExited) return this.exited ?? { code: null, signal: null }
    this.signal('SIGKILL')
    return this.exited
  }

  async wipeTmp(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true })
  }

  /** The SCF status and error for an invocation that the process's exit cut short. */
  exitError(requestId: string, info: ExitInfo): InvocationError {
    if (this.killCause === 'terminated') return new InvocationError('SCFG_ERR_INSTANCE_TERMINATED', scfStatus.REQUEST_CANCELED, requestId, 'invocation terminated by force; the instance was recycled')
    if (this.killCause === 'timeout') return new InvocationError('SCFG_ERR_INSTANCE_TIMEOUT', scfStatus.TIME_LIMIT_REACHED, requestId, `invocation ran past its timeout of ${this.options.timeoutMs} ms`)
    const how = info.signal ? `signal ${info.signal}` : `code ${info.code}`
    return new InvocationError('SCFG_ERR_INSTANCE_EXITED', scfStatus.USER_PROCESS_EXIT, requestId, `User process exit when running (${how})`)
  }
}

/** A code-deployment instance: a long-lived runtime process that calls the handler once per invocation. */
class CodeInstance extends HostInstance {
  readonly mode = 'code' as const
  // SCF's runtime process lives on after a graceful SIGTERM: terminate({ grace }) returns once invocations settled
  protected override readonly exitsAfterSigterm = false
  private readonly calls = new Map<string, Pending>()

  async start(): Promise<void> {
    const o = this.host.options
    const env = instanceEnv(o, this.host.tmpDir)
    const child = fork(join(here(), 'local', 'code-runtime.js'), [], {
      cwd: o.cwd,
      env: { ...env, [RUNTIME_ENV.entry]: o.entry, [RUNTIME_ENV.handler]: o.handler },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    })
    this.host.attach(child)
    child.on('message', (m: ChildMessage) => this.onMessage(m))
    this.host.onExit((info) => {
      for (const [id, p] of this.calls) {
        clearTimeout(p.timer)
        this.calls.delete(id)
        p.reject(this.host.exitError(p.requestId, info))
      }
    })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new ScfGracefulError('SCFG_ERR_INSTANCE_START', `${o.entry} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS)
      timer.unref()
      const off = this.host.onExit((info) => fail(new ScfGracefulError('SCFG_ERR_INSTANCE_START', `${o.entry} exited while starting (code ${info.code}, signal ${info.signal}): ${this.lastLines()}`)))
      const onMessage = (m: ChildMessage) => {
        if (m.type === 'ready') done()
        else if (m.type === 'load-error') fail(new ScfGracefulError(m.code === 'SCFG_ERR_HANDLER_NOT_FOUND' ? 'SCFG_ERR_HANDLER_NOT_FOUND' : 'SCFG_ERR_INSTANCE_START', m.message))
      }
      const cleanup = () => {
        clearTimeout(timer)
        off()
        child.off('message', onMessage)
      }
      const done = () => (cleanup(), resolve())
      const fail = (err: Error) => {
        cleanup()
        this.host.signal('SIGKILL')
        reject(err)
      }
      child.on('message', onMessage)
    })
  }

  private lastLines(): string {
    return this.host.logs.slice(-5).map((l) => l.line).join(' | ')
  }

  private onMessage(m: ChildMessage): void {
    if (m.type !== 'result') return
    const p = this.calls.get(m.id)
    if (!p) return
    this.calls.delete(m.id)
    clearTimeout(p.timer)
    void this.host.synced(m.id).then(() => {
      if (m.ok) p.resolve(JSON.parse(m.json))
      else p.reject(new InvocationError('SCFG_ERR_HANDLER_FAILED', scfStatus.USER_CODE_EXCEPTION, p.requestId, m.error.message, { errorType: m.error.name, stack: m.error.stack }))
    })
  }

  override invoke(event: unknown, options: InvokeOptions = {}): Promise<unknown> {
    const requestId = options.requestId ?? randomUUID()
    if (this.host.isExited || !this.host.child?.connected) {
      return Promise.reject(new InvocationError('SCFG_ERR_INSTANCE_EXITED', scfStatus.CONTAINER_STATE_EXITED, requestId, 'the instance has exited'))
    }
    const timeoutMs = options.timeoutMs ?? this.host.options.timeoutMs
    const env = instanceEnv(this.host.options, this.host.tmpDir)
    const end = this.host.begin(requestId)
    const running = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        // SCF recycles an instance whose invocation ran past its timeout
        void this.host.kill('timeout')
      }, timeoutMs)
      timer.unref()
      this.calls.set(requestId, { requestId, resolve, reject, timer })
      const message: InvokeMessage = { type: 'invoke', id: requestId, event, context: runtimeContext(this.host.options, env, requestId, timeoutMs) }
      this.host.child!.send(message, (err) => {
        if (!err) return
        const p = this.calls.get(requestId)
        if (!p) return
        this.calls.delete(requestId)
        clearTimeout(p.timer)
        reject(new InvocationError('SCFG_ERR_INSTANCE_EXITED', scfStatus.CONTAINER_STATE_EXITED, requestId, `could not reach the instance: ${err.message}`))
      })
    }).finally(end)
    return this.track(running)
  }
}

/** Creates the instance's tmp dir (its /tmp) unless one was given. */
export async function createHost(o: ResolvedInstanceOptions): Promise<ProcessHost> {
  const owns = o.tmpDir === undefined
  const dir = o.tmpDir ?? (await mkdtemp(join(tmpdir(), 'scfg-instance-')))
  return new ProcessHost(o, dir, owns)
}

type ModeStarter = (host: ProcessHost) => Promise<FunctionInstance>

async function startCodeInstance(host: ProcessHost): Promise<FunctionInstance> {
  const instance = new CodeInstance(host)
  await instance.start()
  return instance
}

/** The image and job modes load only when used (the emulator and most tests need code mode alone). */
async function modeStarter(mode: FunctionMode): Promise<ModeStarter> {
  if (mode === 'code') return startCodeInstance
  if (mode === 'image') return (await import('./image-instance.js')).startImageInstance
  return (await import('./job-instance.js')).startJobInstance
}

/**
 * Starts a function instance in a child process, the way SCF runs it.
 *
 * @example
 * import { startFunction } from 'scf-graceful/testing'
 * const fn = await startFunction({ entry: './index.mjs' })
 * const pending = fn.invoke({ items: 100 })
 * fn.signal('SIGTERM')
 * console.log(await pending) // the handler saw inv.shouldStop and returned
 * await fn.stop()
 */
export async function startFunction(options: StartFunctionOptions): Promise<FunctionInstance> {
  const o = resolveInstanceOptions(options)
  const starter = await modeStarter(o.mode)
  const host = await createHost(o)
  try {
    return await starter(host)
  } catch (err) {
    if (host.ownsTmpDir) await host.wipeTmp()
    throw err
  }
}
