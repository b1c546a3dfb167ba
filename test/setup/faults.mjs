// Fault injection for tests: a store wrapper that fails, slows or hangs chosen calls, and a TCP server that accepts
// connections and never answers. Plain ESM so both vitest files and child-process fixtures (run on SCF's exact Node
// binaries) can import it.
import { createServer } from 'node:net'

/**
 * @typedef {'put'|'get'|'has'|'readInto'|'list'|'delete'} StoreOp
 * @typedef {object} FaultRule
 * @property {StoreOp | StoreOp[]} op            which operations the rule watches
 * @property {RegExp | string | ((key: string) => boolean)} [key]  which keys (a RegExp, a substring, a predicate); all when absent
 * @property {number} [after]   let this many matching calls through first (default 0)
 * @property {number} [times]   fault at most this many matching calls (default: every one after `after`)
 * @property {'fail'|'hang'|'hang-ignoring-signal'|'delay'|'fail-midway'} action
 *   fail: reject before touching the inner store; hang: never settle until the call's signal aborts (then reject with
 *   its reason); hang-ignoring-signal: never settle at all (a dead mount); delay: wait `delayMs`, then call through;
 *   fail-midway: for get, yield the first chunk of the real value and then throw (a dropped connection)
 * @property {number} [delayMs]
 * @property {() => Error} [error]  the error to throw (default: SCFG_ERR_STORE_UNAVAILABLE-like error with code)
 */

/** An error shaped like a store's unavailable error (the engine treats it as a store failure). */
export function injectedError(message = 'injected fault') {
  const error = new Error(message)
  error.code = 'SCFG_ERR_STORE_UNAVAILABLE'
  error.injected = true
  return error
}

/**
 * Wraps `inner` so the calls chosen by `rules` misbehave. `calls` counts every call per op; `faults` counts the
 * faults injected; `setRules()` swaps the rules at run time (e.g. heal the store for the retry).
 * @param {import('../../src/persistence/store.js').SnapshotStore} inner
 * @param {FaultRule[]} rules
 */
export function faultStore(inner, rules = []) {
  let active = rules.map((rule) => ({ ...rule, seen: 0, fired: 0 }))
  const calls = { put: 0, get: 0, has: 0, readInto: 0, list: 0, delete: 0 }
  const state = { faults: 0 }

  const matches = (rule, op, key) => {
    const ops = Array.isArray(rule.op) ? rule.op : [rule.op]
    if (!ops.includes(op)) return false
    if (rule.key === undefined) return true
    const keys = Array.isArray(key) ? key : [key]
    return keys.some((k) => (rule.key instanceof RegExp ? rule.key.test(k) : typeof rule.key === 'function' ? rule.key(k) : k.includes(rule.key)))
  }
  /** The rule that fires for this call, if any (counts `after` and `times`). */
  const pick = (op, key) => {
    for (const rule of active) {
      if (!matches(rule, op, key)) continue
      rule.seen++
      if (rule.seen <= (rule.after ?? 0)) continue
      if (rule.times !== undefined && rule.fired >= rule.times) continue
      rule.fired++
      state.faults++
      return rule
    }
    return undefined
  }
  const hang = (signal, ignoreSignal) =>
    new Promise((_, reject) => {
      // keeps the event loop alive on purpose: a real hung socket does too
      const keepAlive = setInterval(() => {}, 1 << 30)
      if (ignoreSignal || !signal) return
      const onAbort = () => { clearInterval(keepAlive); reject(signal.reason ?? new Error('aborted')) }
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
  const sleep = (ms, signal) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms)
      signal?.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason ?? new Error('aborted')) }, { once: true })
    })
  /** Runs `call` after the rule's fault, if one fires. */
  const around = async (op, key, options, call) => {
    calls[op]++
    const rule = pick(op, key)
    if (!rule) return call()
    switch (rule.action) {
      case 'fail': throw (rule.error ?? injectedError)(`injected ${op} failure`)
      case 'hang': return hang(options?.signal, false)
      case 'hang-ignoring-signal': return hang(undefined, true)
      case 'delay': await sleep(rule.delayMs ?? 100, options?.signal); return call()
      case 'fail-midway': {
        const body = await call()
        if (op !== 'get' || !body) throw (rule.error ?? injectedError)(`injected ${op} failure`)
        return (async function* () {
          for await (const part of body) {
            yield part
            break
          }
          throw (rule.error ?? injectedError)('injected failure mid-stream')
        })()
      }
      default: throw new Error(`faultStore: unknown action ${rule.action}`)
    }
  }

  /** @type {import('../../src/persistence/store.js').SnapshotStore & { calls: typeof calls, state: typeof state, setRules(r: FaultRule[]): void }} */
  const store = {
    kind: inner.kind,
    localDir: inner.localDir,
    calls,
    state,
    setRules(next) { active = next.map((rule) => ({ ...rule, seen: 0, fired: 0 })) },
    put: (key, body, options) => around('put', key, options, () => inner.put(key, body, options)),
    get: (key, options) => around('get', key, options, () => inner.get(key, options)),
    has: (key, options) => around('has', key, options, () => inner.has(key, options)),
    delete: (keys, options) => around('delete', keys, options, () => inner.delete(keys, options)),
    list(prefix, options) {
      return (async function* () {
        const keys = await around('list', prefix, options, async () => {
          const out = []
          for await (const key of inner.list(prefix, options)) out.push(key)
          return out
        })
        yield* keys
      })()
    },
    close: inner.close ? () => inner.close() : undefined,
  }
  // readInto is an optional fast path: keep it only when the inner store has it, and fault it like get
  if (inner.readInto) store.readInto = (key, into, options) => around('readInto', key, options, () => inner.readInto(key, into, options))
  return store
}

/**
 * A TCP server on 127.0.0.1 that accepts every connection and never writes a byte (a hung S3 endpoint or Redis).
 * @returns {Promise<{ port: number, url: string, connections: number, close(): Promise<void> }>}
 */
export async function startSilentServer() {
  const sockets = new Set()
  const info = { port: 0, url: '', connections: 0, close: undefined }
  const server = createServer((socket) => {
    info.connections++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve) })
  info.port = server.address().port
  info.url = `http://127.0.0.1:${info.port}`
  info.close = () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) })
  return info
}
