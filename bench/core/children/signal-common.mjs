// Shared by the signal children: IPC protocol with the parent (bench/core/signal-latency.mjs).
//   parent -> child  {type:'ping'}  child -> parent {type:'pong', t}     (clock check)
//   child -> parent  {type:'ready'}                                    (an invocation is waiting for its signal)
//   parent records hrtime, sends SIGTERM
//   child -> parent  {type:'abort', t}                                 (hrtime at the 'abort' event)
//   parent -> child  {type:'done'}                                     (exit)
export function serve() {
  process.on('message', (msg) => {
    if (msg.type === 'ping') process.send({ type: 'pong', t: String(process.hrtime.bigint()) })
    else if (msg.type === 'done') process.exit(0)
  })
}

/** Resolves when `signal` aborts; tells the parent it is waiting, and when the abort event fired. */
export function waitForAbort(signal) {
  return new Promise((resolve) => {
    signal.addEventListener(
      'abort',
      () => {
        const t = process.hrtime.bigint()
        process.send({ type: 'abort', t: String(t), reason: signal.reason?.reason ?? String(signal.reason) })
        resolve()
      },
      { once: true },
    )
    process.send({ type: 'ready' })
  })
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
