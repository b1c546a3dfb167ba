import type { InstanceProcess } from './instance-process.js'
import type { ExitInfo, FunctionInstance, FunctionMode, InvokeOptions } from './types.js'

const STOP_GRACE_MS = 5000

/**
 * The FunctionInstance every mode (code, image, job) extends: the getters over its InstanceProcess, the pending
 * invocations, and terminate/stop with one semantics. A mode adds only how an invocation reaches the process.
 */
export abstract class BaseInstance implements FunctionInstance {
  abstract readonly mode: FunctionMode
  /** Image servers and jobs exit after SIGTERM; a code-mode runtime process lives on (SCF's runtime owns it). */
  protected readonly exitsAfterSigterm: boolean = true
  /** Settles when each running invocation settles (either way). */
  protected readonly pending = new Set<Promise<unknown>>()

  constructor(protected readonly host: InstanceProcess) {}

  get id() {
    return this.host.id
  }
  get pid() {
    return this.host.pid
  }
  get tmpDir() {
    return this.host.tmpDir
  }
  get logs() {
    return this.host.logs
  }
  get exited(): Promise<ExitInfo> {
    return this.host.exited
  }
  get busy() {
    return this.host.busy
  }
  get isExited() {
    return this.host.isExited
  }

  abstract invoke(event: unknown, options?: InvokeOptions): Promise<unknown>

  protected track<T>(running: Promise<T>): Promise<T> {
    const settled = running.then(
      () => undefined,
      () => undefined,
    )
    this.pending.add(settled)
    void settled.then(() => this.pending.delete(settled))
    return running
  }

  signal(name: NodeJS.Signals): boolean {
    return this.host.signal(name)
  }

  async terminate(options: { grace?: boolean; graceMs?: number } = {}): Promise<ExitInfo> {
    if (!options.grace) {
      const info = await this.host.kill('terminated')
      await this.host.wipeTmp()
      return info
    }
    if (!this.host.child || this.host.isExited) return this.host.exited ?? { code: null, signal: null }
    this.host.signal('SIGTERM')
    // SCF does not document a hard kill after SIGTERM: the invocation's own timeout still applies
    const bound = options.graceMs ?? this.host.options.timeoutMs
    let timer: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      this.host.exited.then(() => 'exited' as const),
      Promise.all([...this.pending]).then(() => 'settled' as const),
      new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), bound)
        timer.unref()
      }),
    ])
    clearTimeout(timer)
    if (outcome === 'timeout') return this.host.kill('timeout')
    if (outcome === 'settled' && !this.exitsAfterSigterm) return this.host.isExited ? this.host.exited : { code: null, signal: null }
    if (outcome === 'settled') {
      // the invocations are answered; an image server exits right after (give it the rest of the bound)
      const rest = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), bound)
        timer.unref()
      })
      const after = await Promise.race([this.host.exited.then(() => 'exited' as const), rest])
      clearTimeout(timer)
      if (after === 'timeout') return { code: null, signal: null }
    }
    return this.host.exited
  }

  async stop(): Promise<void> {
    if (this.host.child && !this.host.isExited) {
      this.host.killCause ??= 'stopped'
      // a code-mode runtime ends when its IPC channel closes
      if (this.host.child.connected) this.host.child.disconnect()
      this.host.signal('SIGTERM')
      const t = setTimeout(() => this.host.signal('SIGKILL'), STOP_GRACE_MS)
      t.unref()
      await this.host.exited
      clearTimeout(t)
    }
    if (this.host.ownsTmpDir) await this.host.wipeTmp()
  }
}
