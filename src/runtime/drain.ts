import type { ShutdownControl } from '../shutdown/controller.js'

/**
 * The transport-agnostic part of serving invocations over a connection (HTTP today, anything tomorrow): a gate that
 * refuses new work from the start of a shutdown cycle until the controller re-arms, and the responses still owed,
 * which the cycle's last step waits for so that exiting never cuts one off. A transport only translates its requests
 * into `exchange()` calls and its refusals into its own "try elsewhere" answer (HTTP 503).
 */
export interface Drain {
  /** True from the start of a shutdown cycle (or `startDraining()`) until the controller re-arms. */
  readonly isDraining: boolean
  /** Refuse new work from now on (a server closed by hand). */
  startDraining(): void
  /** One request's lifecycle: its response is owed from now until `settle()`. */
  exchange(): Exchange
  /** Leaves the shutdown cycle (the transport stopped): the cycle no longer waits for this drain's responses. */
  close(): void
}

/** One request as the runtime sees it: whether its client is still there, and whether its response is still owed. */
export interface Exchange {
  /**
   * Aborted (reason 'client-closed' as a plain Error) when the client went away. A real AbortSignal, made on first
   * read: most requests never need one, and one per request costs more than the rest of an invocation.
   */
  readonly signal: AbortSignal
  readonly isClientGone: boolean
  /** The client went away before its response was sent: the invocation is aborted with reason 'client-closed'. */
  clientGone(): void
  /** @internal the function runtime's listener for clientGone(); one per exchange */
  onClientGone: (() => void) | undefined
  /** The response was sent (or dropped): no longer owed. Idempotent. */
  settle(): void
}

class ExchangeImpl implements Exchange {
  private ac: AbortController | undefined
  private gone = false
  private settled = false
  onClientGone: (() => void) | undefined

  constructor(private readonly paid: () => void) {}

  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController()
      if (this.gone) this.ac.abort(new Error('the client went away'))
    }
    return this.ac.signal
  }

  get isClientGone(): boolean {
    return this.gone
  }

  clientGone(): void {
    if (this.gone) return
    this.gone = true
    this.ac?.abort(new Error('the client went away'))
    const listener = this.onClientGone
    this.onClientGone = undefined
    listener?.()
  }

  settle(): void {
    if (this.settled) return
    this.settled = true
    this.paid()
  }
}

/**
 * @example
 * const drain = createDrain(runtime.control)
 * if (drain.isDraining) return refuse(req, res)     // 503 + Connection: close
 * const exchange = drain.exchange()
 * res.once('close', () => exchange.clientGone())
 * try { send(await runtime.invoke(event, context, { exchange })) } finally { exchange.settle() }
 */
export function createDrain(control: ShutdownControl): Drain {
  let draining = false
  let owed = 0
  let allPaid: (() => void) | undefined
  const paid = () => {
    owed -= 1
    if (owed === 0) allPaid?.()
  }
  const leave = control.addParticipant({
    onStopping() {
      draining = true
    },
    async onFinalize(signal) {
      if (owed === 0) return
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done)
          allPaid = undefined
          resolve()
        }
        allPaid = done
        signal.addEventListener('abort', done, { once: true })
      })
    },
    onRearm() {
      draining = false
    },
  })
  return {
    get isDraining() {
      return draining
    },
    startDraining() {
      draining = true
    },
    exchange() {
      owed += 1
      return new ExchangeImpl(paid)
    },
    close: leave,
  }
}
