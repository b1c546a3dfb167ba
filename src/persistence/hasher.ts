// SHA-256 of chunks off the main thread. Hashing is the largest CPU cost of a snapshot or restore (~0.8 GB/s per
// core with SHA-NI); on the main thread it serialises with everything else. Chunk buffers that live in a
// SharedArrayBuffer are hashed by a small worker pool without copying; a worker that cannot start or dies makes its
// jobs fall back to hashing inline, so a hash is never lost, only slower.
import { createHash } from 'node:crypto'
import { loadavg } from 'node:os'
import { availableParallelism } from '../compat/os.js'
import { Worker } from 'node:worker_threads'

export interface Hasher {
  /** Hex SHA-256 of the bytes. The caller must not touch them until the promise settles. */
  hash(bytes: Uint8Array): Promise<string>
  /** Allocates a reusable buffer the pool can hash without copying (shared memory when workers are in use). */
  alloc(size: number): Buffer
  close(): Promise<void>
}

/** Below this many bytes to hash, starting workers (~20-40 ms each) costs more than it saves. */
export const WORKER_HASH_THRESHOLD = 64 * 1024 * 1024

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

export function inlineHasher(): Hasher {
  return {
    hash: async (bytes) => sha256(bytes),
    alloc: (size) => Buffer.allocUnsafe(size),
    close: async () => {},
  }
}

// eval'd as CommonJS, so it works the same from the ESM and the CJS build (no worker file to resolve)
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
parentPort.on('message', (m) => {
  parentPort.postMessage({ id: m.id, hash: createHash('sha256').update(new Uint8Array(m.buf, m.off, m.len)).digest('hex') })
})`

interface Job { bytes: Uint8Array; resolve(hash: string): void }
interface Slot { worker: Worker; jobs: Map<number, Job>; dead: boolean }

/** One worker per core (at most `max`), created now, terminated by close(). */
export function workerHasher(max = 4): Hasher {
  const count = Math.max(1, Math.min(max, availableParallelism()))
  let nextId = 0
  const slots: Slot[] = []
  const fallback = (slot: Slot) => {
    slot.dead = true
    for (const job of slot.jobs.values()) job.resolve(sha256(job.bytes))
    slot.jobs.clear()
  }
  for (let i = 0; i < count; i++) {
    let worker: Worker
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true })
    } catch {
      continue
    }
    const slot: Slot = { worker, jobs: new Map(), dead: false }
    worker.unref()
    worker.on('message', (m: { id: number; hash: string }) => {
      const job = slot.jobs.get(m.id)
      if (!job) return
      slot.jobs.delete(m.id)
      // an idle worker must not keep the process alive; a busy one must (the caller awaits its answer)
      if (slot.jobs.size === 0) worker.unref()
      job.resolve(m.hash)
    })
    worker.on('error', () => fallback(slot))
    worker.on('exit', () => fallback(slot))
    slots.push(slot)
  }
  return {
    hash(bytes) {
      const live = slots.filter((s) => !s.dead)
      if (live.length === 0 || !(bytes.buffer instanceof SharedArrayBuffer)) return Promise.resolve(sha256(bytes))
      let slot = live[0]!
      for (const s of live) if (s.jobs.size < slot.jobs.size) slot = s
      const id = nextId++
      return new Promise<string>((resolve) => {
        slot.jobs.set(id, { bytes, resolve })
        if (slot.jobs.size === 1) slot.worker.ref()
        slot.worker.postMessage({ id, buf: bytes.buffer, off: bytes.byteOffset, len: bytes.byteLength })
      })
    },
    alloc: (size) => Buffer.from(new SharedArrayBuffer(size)),
    async close() {
      await Promise.all(slots.map(async (s) => {
        // jobs still pending (an aborted operation) are answered inline before the worker goes
        s.worker.removeAllListeners('exit')
        fallback(s)
        await s.worker.terminate().catch(() => {})
      }))
    },
  }
}

/**
 * Workers only when asked for (`hashWorkers`), with enough to hash to pay for starting them, and a core that looks
 * idle (1-minute load average below cores - 1): without an idle core a second thread only adds coordination.
 */
export function hasherFor(bytesToHash: number, useWorkers: boolean): Hasher {
  const cores = availableParallelism()
  return useWorkers && bytesToHash >= WORKER_HASH_THRESHOLD && cores >= 2 && loadavg()[0]! < cores - 1 ? workerHasher() : inlineHasher()
}
