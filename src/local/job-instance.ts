import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { scfStatus } from '../scf/status.js'
import { HostInstance } from './host-instance.js'
import { instanceEnv, type ProcessHost } from './instance.js'
import { InvocationError } from './invocation-error.js'
import type { ExitInfo, FunctionInstance, InvokeOptions } from './types.js'

/**
 * A Job image instance: every invoke runs `node ENTRY` once, with the event in SCF_CUSTOM_CONTAINER_EVENT and the
 * context in SCF_* variables; the exit code is the outcome (runJob's codes: 0 success, 1 handler error, 65
 * malformed event, 124 timeout, 130 SIGINT, 143 stopped). Exit 0 resolves with `{ exitCode: 0 }`.
 */

/** The result of a job invocation that exited 0. */
export interface JobResult {
  exitCode: 0
}

const EXIT_HANDLER_FAILED = 1
const EXIT_MALFORMED_EVENT = 65
const EXIT_TIMEOUT = 124

class JobInstance extends HostInstance {
  readonly mode = 'job' as const
  private running = false
  private resolveFirstExit!: (info: ExitInfo) => void
  private readonly firstExit = new Promise<ExitInfo>((r) => (this.resolveFirstExit = r))

  /** The running (or last) process's exit; before the first run, the first run's exit. */
  override get exited(): Promise<ExitInfo> {
    return this.host.child ? this.host.exited : this.firstExit
  }

  invoke(event: unknown, options: InvokeOptions = {}): Promise<unknown> {
    const requestId = options.requestId ?? randomUUID()
    if (this.running) {
      return Promise.reject(new InvocationError('SCFG_ERR_INVALID_OPTION', scfStatus.RESOURCE_LIMIT_REACHED, requestId, 'a job instance runs one event at a time'))
    }
    this.running = true
    const o = this.host.options
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
    const child = spawn(process.execPath, [o.entry], { cwd: o.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    child.once('error', (err) => this.host.log('stderr', `could not spawn ${o.entry}: ${err.message}`))
    this.host.attach(child)
    void this.host.exited.then(this.resolveFirstExit)
    const end = this.host.begin(requestId)
    const timer = setTimeout(() => void this.host.kill('timeout'), timeoutMs)
    timer.unref()
    const run = this.host.exited.then((info) => {
      clearTimeout(timer)
      if (this.host.killCause || info.signal || info.code === null) throw this.host.exitError(requestId, info)
      if (info.code === 0) return { exitCode: 0 } satisfies JobResult
      const last = this.lastStderr()
      if (info.code === EXIT_HANDLER_FAILED || info.code === EXIT_MALFORMED_EVENT) {
        throw new InvocationError('SCFG_ERR_HANDLER_FAILED', scfStatus.USER_CODE_EXCEPTION, requestId, `job exited with code ${info.code}${last ? `: ${last}` : ''}`, { errorType: info.code === EXIT_MALFORMED_EVENT ? 'MalformedEvent' : 'JobFailed' })
      }
      if (info.code === EXIT_TIMEOUT) throw new InvocationError('SCFG_ERR_INSTANCE_TIMEOUT', scfStatus.TIME_LIMIT_REACHED, requestId, `job stopped at its timeout of ${timeoutMs} ms (exit code ${info.code})`)
      throw this.host.exitError(requestId, info)
    })
    return this.track(
      run.finally(() => {
        end()
        this.running = false
      }),
    )
  }

  private lastStderr(): string | undefined {
    for (let i = this.host.logs.length - 1; i >= 0; i--) {
      const l = this.host.logs[i]
      if (l?.stream === 'stderr' && l.line.trim()) return l.line.slice(0, 500)
    }
    return undefined
  }

  override async stop(): Promise<void> {
    await super.stop()
    this.resolveFirstExit({ code: null, signal: null })
  }
}

export async function startJobInstance(host: ProcessHost): Promise<FunctionInstance> {
  return new JobInstance(host)
}
