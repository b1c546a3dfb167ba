// The upload step's machinery: reading a file chunk by chunk (read ahead, hash, hand over) and storing each new chunk
// once, with bounded puts in flight and reused buffers, so memory does not grow with file size.
import { open } from 'node:fs/promises'
import { ScfGracefulError } from '../errors.js'
import type { SnapshotContext } from './context.js'
import { sha256 } from './hasher.js'
import { CHUNK_SIZE, chunkKey } from './layout.js'
import type { FileEntry } from './manifest.js'
import type { CacheRecord } from './state-cache.js'
import { createSemaphore, throwIfAborted } from './util.js'
import { isGone } from './walk.js'

const READ_ATTEMPTS = 3

/** What the upload step needs to know before it reads a byte. */
export interface Plan {
  /** Chunks the store holds for sure (the current manifest's). */
  known: Set<string>
  /** Files the state cache vouches for, with their records: not read again. */
  unchanged: Map<string, CacheRecord>
  /** False for a store that has no chunk at all: asking has() per chunk would only double the requests. */
  chunksMayExist: boolean
}

/** One file read and stored: its manifest entry and its state-cache record. */
export interface StoredFile { entry: FileEntry; record: CacheRecord }

/** Chunk-sized buffers, reused: bounded memory, no garbage for the GC to chase. */
export interface BufferPool { take(): Buffer; give(b: Buffer): void }

/**
 * Hands chunks to the store, at most `concurrency` puts at once (waiting for a slot is the backpressure that keeps
 * memory independent of file size), each chunk once. A buffer goes back to the pool once its put settled.
 */
export function chunkUploader(ctx: SnapshotContext, plan: Plan, buffers: BufferPool, signal: AbortSignal | undefined) {
  const { store } = ctx
  const slots = createSemaphore(ctx.concurrency)
  const inflight = new Map<string, Promise<void>>()
  const stats = { uploadedChunks: 0, uploadedBytes: 0 }
  let failure: { error: unknown } | undefined
  return {
    stats,
    /** Stores the chunk unless the store has it or it is on its way; `backing` is the pool buffer `view` lies in. */
    async add(hash: string, view: Buffer, backing: Buffer): Promise<void> {
      if (failure) {
        buffers.give(backing)
        throw failure.error
      }
      if (plan.known.has(hash) || inflight.has(hash)) {
        buffers.give(backing)
        return
      }
      const release = await slots.acquire()
      const put = (async () => {
        try {
          const storeKey = chunkKey(hash)
          if (plan.chunksMayExist && (await store.has(storeKey, { signal }))) return
          await store.put(storeKey, view, { signal, size: view.byteLength })
          stats.uploadedChunks++
          stats.uploadedBytes += view.byteLength
        } finally {
          buffers.give(backing)
          release()
        }
      })()
      inflight.set(hash, put)
      put.then(() => plan.known.add(hash), (error: unknown) => { failure ??= { error } })
    },
    /** Waits for every put; throws the first failure. */
    async settle(): Promise<void> {
      await Promise.allSettled(inflight.values())
      if (failure) throw failure.error
    },
  }
}

export type ChunkUploader = ReturnType<typeof chunkUploader>

export interface ReadFileOptions {
  abs: string
  /** Relative to root, as the manifest has it. */
  path: string
  uploader: ChunkUploader
  buffers: BufferPool
  signal: AbortSignal | undefined
  onBytes(n: number): void
}

/**
 * Reads one file chunk by chunk from a single descriptor, reading the next chunk while this one is hashed and handed
 * to the store. If it changes while being read (size or mtime moved), reads it again; after READ_ATTEMPTS it fails
 * with SCFG_ERR_SNAPSHOT_SOURCE_CHANGED. Undefined = it vanished.
 */
export async function readFileChunks({ abs, path, uploader, buffers, signal, onBytes }: ReadFileOptions): Promise<StoredFile | undefined> {
  for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
    let fh
    try {
      fh = await open(abs, 'r')
    } catch (err) {
      if (isGone(err)) return undefined
      throw err
    }
    try {
      const before = await fh.stat()
      if (!before.isFile()) return undefined
      const size = before.size
      const handle = fh
      /** The chunk at `pos` in a pool buffer, or undefined when the file shrank under us. */
      const readAt = async (pos: number): Promise<{ view: Buffer; backing: Buffer } | undefined> => {
        const len = Math.min(CHUNK_SIZE, size - pos)
        const backing = buffers.take()
        const view = backing.subarray(0, len)
        let got = 0
        try {
          while (got < len) {
            const { bytesRead } = await handle.read(view, got, len - got, pos + got)
            if (bytesRead === 0) break
            got += bytesRead
          }
        } catch (err) {
          buffers.give(backing)
          throw err
        }
        if (got < len) {
          buffers.give(backing)
          return undefined
        }
        return { view, backing }
      }
      const prefetch = (pos: number) => {
        const p = readAt(pos)
        p.catch(() => {}) // awaited below; this only keeps a failure in flight from counting as unhandled
        return p
      }
      const dropNext = async (p: ReturnType<typeof readAt> | undefined) => {
        const r = await p?.catch(() => undefined)
        if (r) buffers.give(r.backing)
      }
      const hashes: string[] = []
      let changed = false
      let next = size > 0 ? prefetch(0) : undefined
      for (let pos = 0; pos < size; pos += CHUNK_SIZE) {
        const chunk = await next!
        next = pos + CHUNK_SIZE < size ? prefetch(pos + CHUNK_SIZE) : undefined
        if (!chunk || signal?.aborted) {
          if (chunk) buffers.give(chunk.backing)
          await dropNext(next)
          throwIfAborted(signal, 'snapshot')
          changed = true
          break
        }
        const hash = sha256(chunk.view)
        hashes.push(hash)
        const len = chunk.view.byteLength
        try {
          await uploader.add(hash, chunk.view, chunk.backing)
        } catch (err) {
          await dropNext(next)
          throw err
        }
        onBytes(len)
      }
      const after = await fh.stat()
      if (!changed && after.size === size && after.mtimeMs === before.mtimeMs) {
        return {
          entry: { type: 'file', path, mode: after.mode & 0o7777, mtimeMs: after.mtimeMs, size, chunks: hashes },
          record: [size, after.mtimeMs, after.ino, after.ctimeMs, ...hashes],
        }
      }
    } finally {
      await fh.close()
    }
  }
  throw new ScfGracefulError('SCFG_ERR_SNAPSHOT_SOURCE_CHANGED', `${path} kept changing while it was read (${READ_ATTEMPTS} attempts); the snapshot was not committed`, { details: { path } })
}
