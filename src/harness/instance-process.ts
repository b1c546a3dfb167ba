import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { scfStatus } from '../scf/status.js'
import { readBoundedLines } from './bounded-lines.js'
import { InvocationError } from './invocation-error.js'
import type { ResolvedInstanceOptions } from './instance-options.js'
import { SYNC_MARK } from './protocol.js'
import type { ExitInfo, LogLine } from './types.js'

const SYNC_WAIT_MS = 1000
const DRAIN_WAIT_MS = 500
/** An instance keeps at least its last 10,000 log lines... */
export const LOG_LINES_KEPT = 10_000
const LOG_TRIM_STEP = 2_000
/**
 * ...and at most 8 MiB of them: lines may be 64 KiB pieces (bounded-lines.ts), so 10,000 of them could hold 640 MiB.
 * Over the bound the oldest lines go first, down to 7/8 of it (a trim per line would move every entry each time).
 */
export const LOG_BYTES_KEPT = 8 * 1024 * 1024

/**
 * The child process of one function instance, whatever its mode: output capture, exit tracking, signals, kills,
 * the instance's tmp dir. Modes differ only in how an invocation reaches the process (see BaseInstance).
 */
export class InstanceProcess {
  readonly id = randomUUID()
  readonly logs: LogLine[] = []
  /** UTF-8 bytes of the lines in `logs` (the marker of dropped lines aside). */
  private logBytes = 0
  /** Lines dropped from the front of `logs` so far, and their bytes; shown by a marker line at logs[0]. */
  private droppedLines = 0
  private droppedBytes = 0
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
    // lines longer than 64 KiB arrive as pieces (readline would hold a newline-less line whole: 640 MB crashed it)
    const capture = (stream: ChildProcess['stdout'], name: LogLine['stream']) => (stream ? readBoundedLines(stream, (p) => this.log(name, p.line, undefined, p.cut)) : undefined)
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
  log(stream: LogLine['stream'], line: string, requestId?: string, cut = false): void {
    const mark = line.indexOf(SYNC_MARK)
    if (mark >= 0) {
      // a partial line the code left without a newline ends just before the marker
      if (mark > 0) this.log(stream, line.slice(0, mark), requestId, cut)
      return this.mark(line.slice(mark + SYNC_MARK.length))
    }
    const only = this.running.size === 1 ? [...this.running][0] : undefined
    const entry: LogLine = { stream, line, time: Date.now(), requestId: requestId ?? only }
    if (cut) entry.cut = true
    this.logs.push(entry)
    this.logBytes += Buffer.byteLength(line)
    // keep memory bounded for long-lived instances: the last 10,000 lines at least (trimmed in steps: a splice per
    // line would move 10,000 entries for every line a chatty function writes), and at most LOG_BYTES_KEPT of them
    if (this.logs.length > LOG_LINES_KEPT + LOG_TRIM_STEP + (this.droppedLines > 0 ? 1 : 0) || this.logBytes > LOG_BYTES_KEPT) this.trimLogs()
    this.options.onLog?.(entry)
  }

  /** Drops the oldest lines (over the line count, or down to 7/8 of the byte bound) and says so in logs[0]. */
  private trimLogs(): void {
    const hadMarker = this.droppedLines > 0
    const from = hadMarker ? 1 : 0
    let count = this.logs.length - from
    let bytes = this.logBytes
    let end = from
    const byteTarget = Math.floor((LOG_BYTES_KEPT * 7) / 8)
    // the newest line always stays, however long
    while (end < this.logs.length - 1 && (count > LOG_LINES_KEPT || bytes > byteTarget)) {
      bytes -= Buffer.byteLength((this.logs[end] as LogLine).line)
      count--
      end++
    }
    if (end === from) return
    this.droppedLines += end - from
    this.droppedBytes += this.logBytes - bytes
    this.logBytes = bytes
    // the marker replaces the dropped lines (and the previous marker): readers see that the output is not whole
    const marker: LogLine = {
      stream: 'stderr',
      line: `[scf-graceful harness] ${this.droppedLines} earlier log lines (${this.droppedBytes} bytes) dropped: an instance keeps its last ${LOG_LINES_KEPT} lines, at most ${LOG_BYTES_KEPT} bytes`,
      time: (this.logs[end] as LogLine).time,
      dropped: this.droppedLines,
    }
    this.logs.splice(0, end, marker)
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

  /**
   * Kills the process once `timeoutMs` passed (SCF recycles an instance whose invocation ran past its timeout);
   * call the returned function when the invocation settled in time. Every mode's invocation timeout is this one.
   */
  killAfter(timeoutMs: number): () => void {
    const timer = setTimeout(() => void this.kill('timeout'), timeoutMs)
    timer.unref()
    return () => clearTimeout(timer)
  }

  async kill(cause: InstanceProcess['killCause']): Promise<ExitInfo> {
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

/** Creates the instance's tmp dir (its /tmp) unless one was given. */
export async function createInstanceProcess(o: ResolvedInstanceOptions): Promise<InstanceProcess> {
  const owns = o.tmpDir === undefined
  const dir = o.tmpDir ?? (await mkdtemp(join(tmpdir(), 'scfg-instance-')))
  return new InstanceProcess(o, dir, owns)
}

