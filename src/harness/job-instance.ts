import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { scfStatus } from '../scf/status.js'
import { BaseInstance } from './base-instance.js'
import { instanceEnv } from './instance-options.js'
import type { InstanceProcess } from './instance-process.js'
import { InvocationError } from './invocation-error.js'
import type { ExitInfo, FunctionInstance, InvokeOptions } from './types.js'

/**
 * A Job image instance: every invoke runs `node ENTRY` once, with the event in SCF_CUSTOM_CONTAINER_EVENT and the
 * context in SCF_* variables; the exit code is the outcome (runJob's codes: 0 success, 1 handler error, 65
 * malformed event, 124 timeout, 130 SIGINT, 143 stopped). Exit 0 resolves with `{ exitCode: 0 }`.
 * Each run after the first starts with an empty tmp dir, as a fresh container would. The instance itself (its
 * `exited` / `isExited`) ends with stop() or a forced terminate(), so a pool can keep it between events.
 */

/** The result of a job invocation that exited 0. */
export interface JobResult {
  exitCode: 0
}

const EXIT_HANDLER_FAILED = 1
const EXIT_MALFORMED_EVENT = 65
const EXIT_TIMEOUT = 124

class JobInstance extends BaseInstance {
  readonly mode = 'job' as const
  private running = false
  private runs = 0
  private ended = false
  private resolveEnded!: (info: ExitInfo) => void
  private readonly endedPromise = new Promise<ExitInfo>((r) => (this.resolveEnded = r))

  /** Resolves when the instance ends (stop(), or terminate({ grace: false })); each run's exit is its invoke's outcome. */
  override get exited(): Promise<ExitInfo> {
    return this.endedPromise
  }

  override get isExited(): boolean {
    return this.ended
  }

  private end(info: ExitInfo): void {
    if (this.ended) return
    this.ended = true
    this.resolveEnded(info)
  }

  invoke(event: unknown, options: InvokeOptions = {}): Promise<unknown> {
    const requestId = options.requestId ?? randomUUID()
    if (this.ended) return Promise.reject(new InvocationError('SCFG_ERR_INSTANCE_EXITED', scfStatus.CONTAINER_STATE_EXITED, requestId, 'the instance has ended'))
    if (this.running) {
      return Promise.reject(new InvocationError('SCFG_ERR_INVALID_OPTION', scfStatus.RESOURCE_LIMIT_REACHED, requestId, 'a job instance runs one event at a time'))
    }
    this.running = true
    return this.track(
      this.run(event, requestId, options).finally(() => {
        this.running = false
      }),
    )
  }

  private async run(event: unknown, requestId: string, options: InvokeOptions): Promise<unknown> {
    const o = this.host.options
    if (this.runs++ > 0 && this.host.ownsTmpDir) {
      // a Job instance is destroyed when its process exits: the next run gets a fresh /tmp
      await rm(this.host.tmpDir, { recursive: true, force: true })
      await mkdir(this.host.tmpDir, { recursive: true })
    }
    const timeoutMs = options.timeoutMs ?? o.timeoutMs
    const env = {
      ...instanceEnv(o, this.host.tmpDir),
      SCF_CUSTOM_CONTAINER_EVENT: JSON.stringify(event === undefined ? {} : event),
      SCF_REQUEST_ID: requestId,
      SCF_MEMORY: String(o.memoryMb),
      // seconds, like the X-Scf-Timeout header
      SCF_TIMEOUT: String(timeoutMs / 1000),
    }
    this.host.killCause = undefined
    const child = spawn(o.execPath, [o.entry], { cwd: o.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    child.once('error', (err) => this.host.log('stderr', `could not spawn ${o.entry}: ${err.message}`))
    this.host.attach(child)
    const end = this.host.begin(requestId)
    const cancelTimeout = this.host.killAfter(timeoutMs)
    const run = this.host.exited.then((info) => {
      cancelTimeout()
      if (this.host.killCause || info.signal || info.code === null) throw this.host.exitError(requestId, info)
      if (info.code === 0) return { exitCode: 0 } satisfies JobResult
      const last = this.lastStderr(requestId)
      if (info.code === EXIT_HANDLER_FAILED || info.code === EXIT_MALFORMED_EVENT) {
        throw new InvocationError('SCFG_ERR_HANDLER_FAILED', scfStatus.USER_CODE_EXCEPTION, requestId, `job exited with code ${info.code}${last ? `: ${last}` : ''}`, { errorType: info.code === EXIT_MALFORMED_EVENT ? 'MalformedEvent' : 'JobFailed' })
      }
      if (info.code === EXIT_TIMEOUT) throw new InvocationError('SCFG_ERR_INSTANCE_TIMEOUT', scfStatus.TIME_LIMIT_REACHED, requestId, `job stopped at its timeout of ${timeoutMs} ms (exit code ${info.code})`)
      throw this.host.exitError(requestId, info)
    })
    return run.finally(end)
  }

  private lastStderr(requestId: string): string | undefined {
    // by request id, not by index: the log keeps its last 10,000 lines, so indices shift
    for (let i = this.host.logs.length - 1; i >= 0; i--) {
      const l = this.host.logs[i]!
      // the error's own line, not the last frame of its stack
      if (l.requestId === requestId && l.stream === 'stderr' && l.line.trim() && !/^\s+at /.test(l.line)) return l.line.slice(0, 500)
    }
    return undefined
  }

  override async terminate(options: { grace?: boolean; graceMs?: number } = {}): Promise<ExitInfo> {
    const info = await super.terminate(options)
    if (!options.grace) this.end(info)
    return info
  }

  override async stop(): Promise<void> {
    await super.stop()
    this.end(this.host.child ? await this.host.exited : { code: null, signal: null })
  }
}

export async function startJobInstance(host: InstanceProcess): Promise<FunctionInstance> {
  return new JobInstance(host)
}
