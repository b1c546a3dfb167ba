/**
 * The child side of a code-mode instance: stands in for SCF's Node.js runtime, on whichever Node runs it (the host's
 * or an exact SCF runtime binary). Loads the function module once with require(), as SCF does,
 * then calls its handler once per `invoke` message and answers over IPC. It installs no signal handlers of its own:
 * without the library, SIGTERM kills the process exactly as on SCF (status 439).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, join } from 'node:path'
import { RUNTIME_ENV, SYNC_MARK, type ChildMessage, type InvokeMessage } from './protocol.js'

type AnyHandler = (event: unknown, context: unknown, callback?: (err: unknown, value?: unknown) => void) => unknown

function send(message: ChildMessage): void {
  process.send?.(message)
}

/** Why Node would treat `entry` as an ES module (then SCF's require() of it fails), or undefined for CommonJS. */
function esmReason(entry: string): string | undefined {
  const ext = extname(entry)
  if (ext === '.mjs') return 'its extension is .mjs'
  if (ext === '.cjs' || ext === '.json' || ext === '.node') return undefined
  // a .js file is whatever the nearest package.json says (Node stops at the first one it finds)
  for (let dir = dirname(entry); ; ) {
    const pkg = join(dir, 'package.json')
    let text: string | undefined
    try {
      text = readFileSync(pkg, 'utf8')
    } catch {
      // no package.json here: look one folder up
    }
    if (text !== undefined) {
      try {
        return (JSON.parse(text) as { type?: unknown }).type === 'module' ? `${pkg} says "type": "module"` : undefined
      } catch {
        return undefined // require() reports the broken package.json itself
      }
    }
    const up = dirname(dir)
    if (up === dir) return undefined
    dir = up
  }
}

function esmMessage(entry: string, why: string, name: string): string {
  return [
    `${entry} is an ES module (${why}). SCF's Node.js runtime loads a function's entry with require(), so this`,
    'function would fail to load on SCF too. Keep the entry a CommonJS file (index.js, with no "type": "module" above',
    'it) and load the ES module from it:',
    '',
    '  // index.js',
    `  exports.${name} = async (event, context) => {`,
    "    const app = await import('./app.mjs')",
    `    return app.${name}(event, context)`,
    '  }',
  ].join('\n')
}

function isEsmLoadError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined
  return e?.code === 'ERR_REQUIRE_ESM' || (err instanceof SyntaxError && /Cannot use import statement outside a module|Unexpected token 'export'/.test(e?.message ?? ''))
}

/** Loads the entry the way SCF's runtime does: require(), whatever Node this is (newer Node could import ESM). */
function load(): AnyHandler | undefined {
  const entry = process.env[RUNTIME_ENV.entry]
  const name = process.env[RUNTIME_ENV.handler] || 'main_handler'
  if (!entry) {
    send({ type: 'load-error', message: `${RUNTIME_ENV.entry} is not set`, code: 'SCFG_ERR_INSTANCE_START' })
    return undefined
  }
  const req = createRequire(join(process.cwd(), 'noop.js'))
  let file: string
  try {
    // index -> index.js, a folder -> its index.js, as SCF's require() resolves the handler's FILE
    file = req.resolve(entry)
  } catch (err) {
    send({ type: 'load-error', message: `cannot find the entry ${entry}: ${(err as Error)?.message ?? String(err)}`, code: 'SCFG_ERR_INSTANCE_START' })
    return undefined
  }
  // on Node 22+ require() can load an ES module; SCF's runtimes cannot, so the harness says no on every Node
  const why = esmReason(file)
  if (why) {
    send({ type: 'load-error', message: esmMessage(file, why, name), code: 'SCFG_ERR_ENTRY_ESM' })
    return undefined
  }
  try {
    const mod = req(file) as Record<string, unknown>
    const fn = mod?.[name] ?? (mod?.default as Record<string, unknown> | undefined)?.[name]
    if (typeof fn !== 'function') {
      send({ type: 'load-error', message: `${entry} does not export a function "${name}"`, code: 'SCFG_ERR_HANDLER_NOT_FOUND' })
      return undefined
    }
    return fn as AnyHandler
  } catch (err) {
    if (isEsmLoadError(err)) {
      const message = `${esmMessage(file, `require() says: ${(err as Error).message.split('\n')[0]}`, name)}\n\n${(err as Error)?.stack ?? String(err)}`
      send({ type: 'load-error', message, code: 'SCFG_ERR_ENTRY_ESM' })
    } else {
      send({ type: 'load-error', message: `loading ${entry} failed: ${(err as Error)?.stack ?? String(err)}`, code: 'SCFG_ERR_INSTANCE_START' })
    }
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

const handler = load()
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
