/**
 * The child side of a code-mode instance: stands in for SCF's Node.js runtime. Loads the function module once,
 * then calls its handler once per `invoke` message and answers over IPC. It installs no signal handlers of its own:
 * without the library, SIGTERM kills the process exactly as on SCF (status 439).
 */
import { pathToFileURL } from 'node:url'
import { RUNTIME_ENV, SYNC_MARK, type ChildMessage, type InvokeMessage } from './protocol.js'

type AnyHandler = (event: unknown, context: unknown, callback?: (err: unknown, value?: unknown) => void) => unknown

function send(message: ChildMessage): void {
  process.send?.(message)
}

async function load(): Promise<AnyHandler | undefined> {
  const entry = process.env[RUNTIME_ENV.entry]
  const name = process.env[RUNTIME_ENV.handler] || 'main_handler'
  if (!entry) {
    send({ type: 'load-error', message: `${RUNTIME_ENV.entry} is not set`, code: 'SCFG_ERR_INSTANCE_START' })
    return undefined
  }
  try {
    const mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>
    const fn = mod[name] ?? (mod.default as Record<string, unknown> | undefined)?.[name]
    if (typeof fn !== 'function') {
      send({ type: 'load-error', message: `${entry} does not export a function "${name}"`, code: 'SCFG_ERR_HANDLER_NOT_FOUND' })
      return undefined
    }
    return fn as AnyHandler
  } catch (err) {
    send({ type: 'load-error', message: `loading ${entry} failed: ${(err as Error)?.stack ?? String(err)}`, code: 'SCFG_ERR_INSTANCE_START' })
    return undefined
  }
}

function callHandler(handler: AnyHandler, event: unknown, context: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // the legacy callback form and the async form, as SCF's runtime accepts both
    const callback = (err: unknown, value?: unknown) => (err ? reject(err) : resolve(value))
    try {
      const out = handler(event, context, callback)
      if (out && typeof (out as Promise<unknown>).then === 'function') (out as Promise<unknown>).then(resolve, reject)
      else if (handler.length < 3) resolve(out)
    } catch (err) {
      reject(err)
    }
  })
}

/** Sends a result once both stdio pipes took a sync marker, so every line logged before it reaches the parent first. */
function sendResult(message: Extract<ChildMessage, { type: 'result' }>): void {
  let pending = 2
  let sent = false
  const go = () => {
    if (sent) return
    sent = true
    clearTimeout(fallback)
    send(message)
  }
  // user code may have replaced process.stdout.write: never hold a result for longer than this
  const fallback = setTimeout(go, 1000)
  const line = `${SYNC_MARK}${message.id}\n`
  for (const stream of [process.stdout, process.stderr]) {
    try {
      stream.write(line, () => --pending === 0 && go())
    } catch {
      go()
    }
  }
}

function describeError(err: unknown): { message: string; name: string; code?: string; stack?: string } {
  if (err instanceof Error) return { message: err.message, name: err.name, code: (err as { code?: string }).code, stack: err.stack }
  return { message: typeof err === 'string' ? err : JSON.stringify(err) ?? String(err), name: 'Error' }
}

const handler = await load()
if (handler) {
  process.on('message', (message: InvokeMessage) => {
    if (message?.type !== 'invoke') return
    callHandler(handler, message.event, message.context).then(
      (value) => {
        let json: string
        try {
          json = JSON.stringify(value === undefined ? null : value)
        } catch (err) {
          // SCF answers a result it cannot serialize as a failed invocation; so does the harness
          return sendResult({ type: 'result', id: message.id, ok: false, error: describeError(err) })
        }
        sendResult({ type: 'result', id: message.id, ok: true, json })
      },
      (err: unknown) => sendResult({ type: 'result', id: message.id, ok: false, error: describeError(err) }),
    )
  })
  // the parent going away ends the instance, like a recycled SCF instance
  process.on('disconnect', () => process.exit(0))
  send({ type: 'ready' })
} else {
  process.exitCode = 1
  process.disconnect?.()
}
