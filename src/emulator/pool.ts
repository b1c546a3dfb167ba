/**
 * The instances of one function, as SCF keeps them: an idle warm instance is reused, a new one is started on demand
 * up to the concurrency limit, later requests wait (bounded) for one to free up. Instances that crashed, timed out or
 * were terminated by force are recycled (never handed out again).
 */
import { ScfGracefulError } from '../errors.js'
import type { FunctionInstance, LogLine, StartFunctionOptions } from '../harness/types.js'

export type StartFn = (options: StartFunctionOptions) => Promise<FunctionInstance>

/** One pooled instance and the request it is serving (log lines are attributed to it). */
export interface PooledInstance {
  instance: FunctionInstance
  requestId: string | undefined
  /** Invocations served so far (0 while the first runs = a cold start). */
  served: number
  /** The pool's code generation when the instance started (see renew()). */
  generation: number
}

export interface PoolOptions {
  start: StartFn
  startOptions: Omit<StartFunctionOptions, 'onLog'>
  /** Called for every line an instance writes, with the request it belongs to (if any). */
  onLog: (requestId: string | undefined, line: LogLine) => void
  concurrency: number
  idleTimeoutMs: number
  /** How long a request may wait for a free instance. */
  queueTimeoutMs: number
}

interface Waiter {
  requestId: string
  resolve: (p: PooledInstance) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

/** Rejection of `acquire()` when no instance freed up in time (SCF's 432 ResourceLimitReached). */
export class PoolBusyError extends ScfGracefulError {
  static override readonly brand: string = 'PoolBusyError'
  readonly statusCode = 432
  constructor(message: string) {
    super('SCFG_ERR_EMULATOR_BUSY', message)
    this.name = 'PoolBusyError'
  }
}

const closingError = () => new ScfGracefulError('SCFG_ERR_EMULATOR_CLOSING', 'the emulator is closing')

export class FunctionPool {
  readonly #o: PoolOptions
  readonly #idle: PooledInstance[] = []
  readonly #live = new Set<PooledInstance>()
  readonly #idleTimers = new Map<PooledInstance, NodeJS.Timeout>()
  #starting = 0
  #generation = 0
  #waiters: Waiter[] = []
  #closed = false

  constructor(options: PoolOptions) {
    this.#o = options
  }

  /** Instances alive now (busy or idle). */
  get size(): number {
    return this.#live.size
  }

  get idleCount(): number {
    return this.#idle.length
  }

  /** A warm idle instance, or a new one, or the next one to free up. Rejects if the instance cannot start. */
  async acquire(requestId: string): Promise<PooledInstance> {
    if (this.#closed) throw closingError()
    const warm = this.#takeIdle()
    if (warm) {
      warm.requestId = requestId
      return warm
    }
    if (this.#live.size + this.#starting < this.#o.concurrency) return this.#startNew(requestId)
    return new Promise<PooledInstance>((resolve, reject) => {
      const waiter: Waiter = {
        requestId,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter)
          reject(new PoolBusyError(`no instance became free within ${this.#o.queueTimeoutMs} ms (concurrency ${this.#o.concurrency})`))
        }, this.#o.queueTimeoutMs),
      }
      waiter.timer.unref()
      this.#waiters.push(waiter)
    })
  }

  /** Gives up a queued request (it was terminated before it got an instance). */
  cancel(requestId: string): boolean {
    const waiter = this.#waiters.find((w) => w.requestId === requestId)
    if (!waiter) return false
    clearTimeout(waiter.timer)
    this.#waiters = this.#waiters.filter((w) => w !== waiter)
    waiter.reject(new ScfGracefulError('SCFG_ERR_EVENT_CANCELLED', `event ${requestId} was terminated while it waited for an instance`))
    return true
  }

  /**
   * Returns an instance after an invocation; `recycle` (or a dead process) takes it out of the pool for good.
   * Resolves once a recycled instance stopped (at once for one that stays).
   */
  release(p: PooledInstance, recycle: boolean): Promise<void> {
    // requestId stays until the next acquire: output that trails the result (stdout is slower than IPC) still
    // belongs to the invocation that wrote it
    p.served++
    if (recycle || p.instance.isExited || this.#closed || p.generation !== this.#generation) {
      const stopped = this.#drop(p)
      this.#startForWaiter()
      return stopped
    }
    const waiter = this.#waiters.shift()
    if (waiter) {
      clearTimeout(waiter.timer)
      p.requestId = waiter.requestId
      waiter.resolve(p)
      return Promise.resolve()
    }
    this.#idle.push(p)
    const timer = setTimeout(() => {
      this.#idle.splice(this.#idle.indexOf(p), 1)
      void this.#drop(p)
    }, this.#o.idleTimeoutMs)
    timer.unref()
    this.#idleTimers.set(p, timer)
    return Promise.resolve()
  }

  /**
   * The function's code changed: idle instances are stopped now, busy ones (and ones starting) finish what they run
   * and are recycled instead of reused; the next request starts a new instance. Returns how many of each there were.
   */
  renew(): { idle: number; busy: number } {
    this.#generation++
    const idle = this.#idle.splice(0)
    for (const p of idle) void this.#drop(p)
    return { idle: idle.length, busy: this.#live.size + this.#starting }
  }

  /** Stops every instance. */
  async close(): Promise<void> {
    this.#closed = true
    for (const w of this.#waiters) {
      clearTimeout(w.timer)
      w.reject(closingError())
    }
    this.#waiters = []
    for (const timer of this.#idleTimers.values()) clearTimeout(timer)
    this.#idleTimers.clear()
    this.#idle.length = 0
    await Promise.all([...this.#live].map((p) => p.instance.stop().catch(() => {})))
    this.#live.clear()
  }

  #takeIdle(): PooledInstance | undefined {
    while (this.#idle.length) {
      const p = this.#idle.pop() as PooledInstance
      clearTimeout(this.#idleTimers.get(p))
      this.#idleTimers.delete(p)
      if (!p.instance.isExited) return p
      this.#live.delete(p)
    }
    return undefined
  }

  async #startNew(requestId: string): Promise<PooledInstance> {
    this.#starting++
    // the holder exists before the process does, so lines written while the module loads go to the cold-starting event
    const holder = { requestId, generation: this.#generation } as PooledInstance
    try {
      const instance = await this.#o.start({ ...this.#o.startOptions, onLog: (line) => this.#o.onLog(line.requestId ?? holder.requestId, line) })
      holder.instance = instance
      holder.served = 0
      if (this.#closed) {
        void instance.stop().catch(() => {})
        throw closingError()
      }
      this.#live.add(holder)
      void instance.exited.then(() => {
        // an idle instance that dies (killed from outside, crashed on a timer) just leaves the pool
        const i = this.#idle.indexOf(holder)
        if (i >= 0) {
          this.#idle.splice(i, 1)
          clearTimeout(this.#idleTimers.get(holder))
          this.#idleTimers.delete(holder)
          this.#live.delete(holder)
          this.#startForWaiter()
        }
      })
      return holder
    } finally {
      this.#starting--
    }
  }

  #drop(p: PooledInstance): Promise<void> {
    this.#live.delete(p)
    clearTimeout(this.#idleTimers.get(p))
    this.#idleTimers.delete(p)
    return p.instance.isExited ? Promise.resolve() : p.instance.stop().catch(() => {})
  }

  #startForWaiter(): void {
    if (this.#closed || !this.#waiters.length || this.#live.size + this.#starting >= this.#o.concurrency) return
    const waiter = this.#waiters.shift() as Waiter
    clearTimeout(waiter.timer)
    this.#startNew(waiter.requestId).then(waiter.resolve, waiter.reject)
  }
}
