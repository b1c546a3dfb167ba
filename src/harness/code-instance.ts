import { fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ScfGracefulError } from '../errors.js'
import { scfStatus } from '../scf/status.js'
import { BaseInstance } from './base-instance.js'
import { instanceEnv, runtimeContext } from './instance-options.js'
import type { InstanceProcess } from './instance-process.js'
import { InvocationError } from './invocation-error.js'
import { RUNTIME_ENV, type ChildMessage, type InvokeMessage } from './protocol.js'
import type { FunctionInstance, InvokeOptions } from './types.js'

const START_TIMEOUT_MS = 30_000

/**
 * The one place that says which file a code-mode instance's child process runs: always the built
 * `dist/harness/code-runtime.js`, because the child may be an exact SCF Node binary (16.13, 18.15) that cannot run
 * TypeScript. From the build this module is in `dist/` (testing.js or a chunk; the build shims import.meta.url for
 * CJS), so the runtime is `./harness/code-runtime.js`. From source (vitest runs `src/` directly) this module is
 * `src/harness/code-instance.ts`, and the runtime is the package's built copy, `../../dist/harness/code-runtime.js`:
 * the parent side runs from source, the child side from the last build.
 */
export function codeRuntimeFile(moduleUrl: string = import.meta.url): string {
  const here = dirname(fileURLToPath(moduleUrl))
  const fromSource = moduleUrl.endsWith('.ts')
  const file = fromSource ? join(here, '..', '..', 'dist', 'harness', 'code-runtime.js') : join(here, 'harness', 'code-runtime.js')
  if (!existsSync(file)) {
    const hint = fromSource ? 'the harness runs from source here, but its child process runs the build: run `npm run build` first' : 'the package is incomplete: reinstall scf-graceful'
    throw new ScfGracefulError('SCFG_ERR_INSTANCE_START', `the code-mode runtime ${file} is missing; ${hint}`)
  }
  return file
}

interface Pending {
  requestId: string
  resolve(value: unknown): void
  reject(error: unknown): void
  /** Cancels the invocation's timeout kill. */
  cancelTimeout(): void
}

/** A code-deployment instance: a long-lived runtime process that calls the handler once per invocation. */
class CodeInstance extends BaseInstance {
  readonly mode = 'code' as const
  // SCF's runtime process lives on after a graceful SIGTERM: terminate({ grace }) returns once invocations settled
  protected override readonly exitsAfterSigterm = false
  private readonly calls = new Map<string, Pending>()

  async start(): Promise<void> {
    const o = this.host.options
    const env = instanceEnv(o, this.host.tmpDir)
    const child = fork(codeRuntimeFile(), [], {
      cwd: o.cwd,
      // the runtime the function asked for (an exact SCF Node.js binary, or this process's own)
      execPath: o.execPath,
      env: { ...env, [RUNTIME_ENV.entry]: o.entry, [RUNTIME_ENV.handler]: o.handler },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    })
    this.host.attach(child)
    child.on('message', (m: ChildMessage) => this.onMessage(m))
    this.host.onExit((info) => {
      for (const [id, p] of this.calls) {
        p.cancelTimeout()
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
        else if (m.type === 'load-error') fail(new ScfGracefulError(m.code === 'SCFG_ERR_HANDLER_NOT_FOUND' || m.code === 'SCFG_ERR_ENTRY_ESM' ? m.code : 'SCFG_ERR_INSTANCE_START', m.message))
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
    p.cancelTimeout()
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
      const cancelTimeout = this.host.killAfter(timeoutMs)
      this.calls.set(requestId, { requestId, resolve, reject, cancelTimeout })
      const message: InvokeMessage = { type: 'invoke', id: requestId, event, context: runtimeContext(this.host.options, env, requestId, timeoutMs) }
      this.host.child!.send(message, (err) => {
        if (!err) return
        const p = this.calls.get(requestId)
        if (!p) return
        this.calls.delete(requestId)
        p.cancelTimeout()
        reject(new InvocationError('SCFG_ERR_INSTANCE_EXITED', scfStatus.CONTAINER_STATE_EXITED, requestId, `could not reach the instance: ${err.message}`))
      })
    }).finally(end)
    return this.track(running)
  }
}

export async function startCodeInstance(host: InstanceProcess): Promise<FunctionInstance> {
  const instance = new CodeInstance(host)
  await instance.start()
  return instance
}
