import { invalidOption } from '../errors.js'
import { assertStoreKey, type SnapshotStore, type StoreBody } from './store.js'
import { installAbortCompat } from '../compat/abort.js'

async function toBytes(body: StoreBody, signal?: AbortSignal): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return Uint8Array.prototype.slice.call(body)
  if (body === null || typeof body !== 'object' || typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] !== 'function') {
    throw invalidOption('body', body, 'a Uint8Array or an async iterable of Uint8Array')
  }
  const parts: Uint8Array[] = []
  for await (const part of body) {
    signal?.throwIfAborted()
    parts.push(typeof part === 'string' ? Buffer.from(part) : part)
  }
  return Buffer.concat(parts)
}

const SLICE = 64 * 1024

/**
 * A store in this process's memory: for tests, and for keeping state across invocations of one warm instance.
 * Lost when the process exits.
 *
 * @example
 * const snap = createSnapshotter({ store: memoryStore(), root: dir })
 */
export function memoryStore(): SnapshotStore {
  // Node 16.13 (SCF's Nodejs16.13): AbortSignal without reason/throwIfAborted, which this code relies on
  installAbortCompat()
  const data = new Map<string, Uint8Array>()
  return {
    kind: 'memory',
    async put(key, body, options = {}) {
      assertStoreKey(key)
      options.signal?.throwIfAborted()
      // collected first and swapped in at once: a reader never sees half a value
      const bytes = await toBytes(body, options.signal)
      options.signal?.throwIfAborted()
      data.set(key, bytes)
    },
    async get(key, options = {}) {
      assertStoreKey(key)
      options.signal?.throwIfAborted()
      const bytes = data.get(key)
      if (!bytes) return undefined
      const signal = options.signal
      return (async function* () {
        for (let i = 0; i < bytes.byteLength || i === 0; i += SLICE) {
          signal?.throwIfAborted()
          if (bytes.byteLength === 0) return
          yield Buffer.from(bytes.subarray(i, i + SLICE))
        }
      })()
    },
    async has(key, options = {}) {
      assertStoreKey(key)
      options.signal?.throwIfAborted()
      return data.has(key)
    },
    async *list(prefix, options = {}) {
      options.signal?.throwIfAborted()
      for (const key of [...data.keys()]) if (key.startsWith(prefix)) yield key
    },
    async delete(keys, options = {}) {
      const list = typeof keys === 'string' ? [keys] : keys
      for (const key of list) assertStoreKey(key)
      options.signal?.throwIfAborted()
      for (const key of list) data.delete(key)
    },
  }
}
