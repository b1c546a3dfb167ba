// The upload step's machinery: reading a file chunk by chunk (read, hash, hand over) and storing each new chunk
// once, with bounded puts in flight and reused buffers, so memory does not grow with file size.
import { close as fsClose, closeSync, fstat as fsFstat, fstatSync, open as fsOpen, openSync, read as fsRead, readSync, type Stats } from 'node:fs'
import { ScfGracefulError } from '../errors.js'
import type { SnapshotContext } from './context.js'
import { sha256 } from './hasher.js'
import { CHUNK_SIZE, chunkKey } from './layout.js'
import type { FileEntry } from './manifest.js'
import type { CacheRecord } from './state-cache.js'
import { createSemaphore, onThreadPool, throwIfAborted } from './util.js'
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
      // the hash is in flight from this moment, before the wait for a slot: a file with the same content read
      // meanwhile finds it there and sends nothing
      let acquired!: () => void
      const slot = new Promise<void>((resolve) => {
        acquired = resolve
      })
      const put = (async () => {
        const release = await slots.acquire()
        acquired()
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
      // backpressure: the caller reads its next chunk only once this one holds a slot
      await slot
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
  /** One loopTurns() for the whole upload step: the reads are synchronous. */
  turn(): Promise<void> | undefined
  /** How the file is opened and read: `localFileIo` unless the walk found the disk slow (`threadPoolFileIo`). */
  io: FileIo
}

/** The four calls reading a source file needs, synchronous or on the thread pool. */
export interface FileIo {
  open(path: string): Promise<number>
  fstat(fd: number): Promise<Stats>
  read(fd: number, into: Buffer, from: number, length: number, position: number): Promise<number>
  close(fd: number): Promise<void>
}

/**
 * Synchronous calls, for the instance's local disk (/tmp): a 4 MiB read from the page cache takes a fraction of a
 * millisecond, and the promise API costs more than the read (a FileHandle, a thread-pool round trip and a promise for
 * each of open, fstat, read and close).
 */
export const localFileIo: FileIo = {
  open: async (path) => openSync(path, 'r'),
  fstat: async (fd) => fstatSync(fd),
  read: async (fd, into, from, length, position) => readSync(fd, into, from, length, position),
  close: async (fd) => closeSync(fd),
}

/** The thread pool, for a root the walk found slow (a network mount): a slow call then blocks a pool thread, not the event loop. */
export const threadPoolFileIo: FileIo = {
  open: (path) => onThreadPool<number>((cb) => fsOpen(path, 'r', cb)),
  fstat: (fd) => onThreadPool<Stats>((cb) => fsFstat(fd, cb)),
  read: (fd, into, from, length, position) => onThreadPool<number>((cb) => fsRead(fd, into, from, length, position, cb)),
  close: (fd) => onThreadPool<void>((cb) => fsClose(fd, (err) => cb(err, undefined))),
}

/**
 * Reads one file chunk by chunk from a single descriptor, hashing each chunk and handing it to the store; the store's
 * puts run while the next chunk is read and hashed. If it changes while being read (size or mtime moved), reads it
 * again; after READ_ATTEMPTS it fails with SCFG_ERR_SNAPSHOT_SOURCE_CHANGED. Undefined = it vanished.
 *
 * On a local disk the calls are synchronous (`localFileIo`) and the event loop gets a turn at least every 10 ms
 * (`turn`). Reading on the thread pool while the main thread hashes (the callback API, the next chunk prefetched)
 * was measured too: more CPU in total and no wall time gained on a 2-core machine.
 */
export async function readFileChunks({ abs, path, uploader, buffers, signal, onBytes, turn, io }: ReadFileOptions): Promise<StoredFile | undefined> {
  for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
    let fd: number
    try {
      fd = await io.open(abs)
    } catch (err) {
      if (isGone(err)) return undefined
      throw err
    }
    try {
      const before = await io.fstat(fd)
      if (!before.isFile()) return undefined
      const size = before.size
      const hashes: string[] = []
      let changed = false
      for (let pos = 0; pos < size; pos += CHUNK_SIZE) {
        // a turn check right before each synchronous step (read, hash), and no await when none is due: lanes sharing
        // the budget then overrun it by one step, not by a chunk each (the caller checks before each file)
        for (let due = turn(); due; due = turn()) await due
        throwIfAborted(signal, 'snapshot')
        const len = Math.min(CHUNK_SIZE, size - pos)
        const backing = buffers.take()
        const view = backing.subarray(0, len)
        let got = 0
        try {
          while (got < len) {
            const n = await io.read(fd, view, got, len - got, pos + got)
            if (n === 0) break
            got += n
          }
        } catch (err) {
          buffers.give(backing)
          throw err
        }
        if (got < len) {
          // the file shrank under us
          buffers.give(backing)
          changed = true
          break
        }
        for (let due = turn(); due; due = turn()) await due
        const hash = sha256(view)
        hashes.push(hash)
        await uploader.add(hash, view, backing)
        onBytes(len)
      }
      const after = await io.fstat(fd)
      if (!changed && after.size === size && after.mtimeMs === before.mtimeMs) {
        return {
          entry: { type: 'file', path, mode: after.mode & 0o7777, mtimeMs: after.mtimeMs, size, chunks: hashes },
          record: [size, after.mtimeMs, after.ino, after.ctimeMs, ...hashes],
        }
      }
    } finally {
      await io.close(fd)
    }
  }
  throw new ScfGracefulError('SCFG_ERR_SNAPSHOT_SOURCE_CHANGED', `${path} kept changing while it was read (${READ_ATTEMPTS} attempts); the snapshot was not committed`, { details: { path } })
}
