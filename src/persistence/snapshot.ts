// Taking a snapshot: walk, hash in fixed-size chunks, upload only chunks the store lacks, write the manifest,
// then commit with one small ref write. Nothing before the ref write changes what restore sees.
import { open, realpath } from 'node:fs/promises'
import { join } from 'node:path'
import { ScfGracefulError } from '../errors.js'
import type { SnapshotContext, OperationOptions } from './context.js'
import { takeLease } from './gc.js'
import { type Hasher, hasherFor } from './hasher.js'
import { CHUNK_SIZE, CHUNKS_PREFIX, chunkKey, FORMAT, manifestKey, newSnapshotId } from './layout.js'
import { type FileEntry, type Manifest, type ManifestEntry, manifestChunks } from './manifest.js'
import { loadManifest } from './load.js'
import { readRef, writeRef } from './refs.js'
import { type CacheRecord, entriesDigest, readStateCache, type StateCache, writeStateCache } from './state-cache.js'
import { asAbortError, createSemaphore, runPool, throwIfAborted, withinMs } from './util.js'
import { isGone, isInside, walkTree, type Walked, type WalkedFile } from './walk.js'

export interface SnapshotResult {
  /** The snapshot's id (the ref points at it). */
  id: string
  /**
   * True when a new snapshot was written and the ref moved to it; false when the tree was exactly the snapshot the
   * ref already pointed at (nothing was written, `id` is that snapshot's).
   */
  committed: boolean
  files: number
  bytes: number
  /** Chunks and bytes actually sent to the store (new content only). */
  uploadedChunks: number
  uploadedBytes: number
  /** Files recognised as unchanged by size/mtime/inode/ctime without being read. */
  unchangedFiles: number
  durationMs: number
}

const READ_ATTEMPTS = 3

/** Size, mtime, inode and ctime as the state cache recorded them: the file was not touched since. */
const sameFile = (rec: CacheRecord, file: WalkedFile) => rec[0] === file.s && rec[1] === file.mt && rec[2] === file.ino && rec[3] === file.ct

const otherEntry = (e: Exclude<Walked, WalkedFile>): ManifestEntry => (e.t === 'd' ? { p: e.p, t: 'd', m: e.m, mt: e.mt } : { p: e.p, t: 'l', tg: e.tg, mt: e.mt })

/** The manifest entries of the walked tree if every file still matches its state-cache record; else undefined. */
function entriesFromCache(walked: readonly Walked[], cache: StateCache): ManifestEntry[] | undefined {
  const entries: ManifestEntry[] = []
  for (const e of walked) {
    if (e.t !== 'f') {
      entries.push(otherEntry(e))
      continue
    }
    const rec = cache.files[e.p]
    if (!rec || !sameFile(rec, e)) return undefined
    entries.push({ p: e.p, t: 'f', m: e.m, mt: e.mt, s: e.s, c: rec.slice(4) as string[] })
  }
  return entries
}

export async function takeSnapshot(ctx: SnapshotContext, options: OperationOptions = {}): Promise<SnapshotResult> {
  const { store, key, logger } = ctx
  const { signal, onProgress } = options
  const started = Date.now()
  throwIfAborted(signal, 'snapshot')
  let root: string
  let cache: StateCache | undefined
  let walked: Walked[]
  try {
    root = await realpath(ctx.root)
    cache = await readStateCache(root, key)
    const skipDirs: string[] = []
    if (store.localDir) {
      const dir = await realpath(store.localDir).catch(() => store.localDir!)
      if (isInside(root, dir)) skipDirs.push(dir)
    }
    walked = await walkTree({ root, include: ctx.include, exclude: ctx.exclude, skipDirs, signal, logger })
  } catch (err) {
    throw asAbortError(err, signal, 'snapshot')
  }
  const files = walked.filter((e): e is WalkedFile => e.t === 'f')
  const totalBytes = files.reduce((n, f) => n + f.s, 0)

  // nothing changed since the snapshot the ref still points at: that snapshot is this one, nothing to write (no
  // lease, no manifest, no ref: a periodic checkpoint of an idle tree costs one ref read)
  if (cache?.head) {
    const same = entriesFromCache(walked, cache)
    if (same && entriesDigest(same) === cache.head.digest) {
      const headId = await readRef(store, key, signal).catch((err: unknown) => {
        throw asAbortError(err, signal, 'snapshot')
      })
      if (headId === cache.head.id) {
        onProgress?.({ phase: 'snapshot', files: files.length, totalFiles: files.length, bytes: totalBytes, totalBytes })
        return { id: headId, committed: false, files: files.length, bytes: totalBytes, uploadedChunks: 0, uploadedBytes: 0, unchangedFiles: files.length, durationMs: Date.now() - started }
      }
    }
  }

  const lease = await takeLease(store, 'snapshot', signal).catch((err: unknown) => {
    throw asAbortError(err, signal, 'snapshot')
  })
  try {
    const known = new Set<string>()
    const headId = await readRef(store, key, signal)
    if (headId) {
      try {
        manifestChunks(await loadManifest(store, key, headId, signal), known)
      } catch (err) {
        if (signal?.aborted) throw err
        logger.warn(`snapshot: previous manifest ${headId} unreadable, re-checking every chunk (${(err as Error).message})`)
      }
    }
    // files whose stat identity matches the state cache and whose chunks the current manifest references are not
    // read again; knowing them up front tells how much there is to hash
    const unchanged = new Map<string, CacheRecord>()
    let bytesToRead = 0
    for (const file of files) {
      const rec = cache?.files[file.p]
      if (rec && sameFile(rec, file) && (rec.slice(4) as string[]).every((h) => known.has(h))) unchanged.set(file.p, rec)
      else bytesToRead += file.s
    }
    // a store with no chunk at all (a first snapshot) cannot have any of ours: asking has() per chunk would only
    // double the requests. Skipping has() is always safe, only wasteful: a put of a content-addressed chunk that
    // exists (a concurrent writer's) atomically replaces it with the same bytes.
    let chunksMayExist = known.size > 0
    if (!chunksMayExist && bytesToRead > 0) {
      for await (const _ of store.list(CHUNKS_PREFIX, { signal })) {
        chunksMayExist = true
        break
      }
    }

    const progress = { phase: 'snapshot' as const, files: 0, totalFiles: files.length, bytes: 0, totalBytes }
    let uploadedChunks = 0
    let uploadedBytes = 0
    let unchangedFiles = 0
    const putSlots = createSemaphore(ctx.concurrency)
    const inflight = new Map<string, Promise<void>>()
    let putFailure: { error: unknown } | undefined

    // chunk-sized buffers are reused (bounded memory, no garbage for the GC to chase); a buffer returns to the pool
    // once its bytes are hashed and, if they had to be uploaded, once the store's put resolved
    const hasher = hasherFor(bytesToRead, ctx.hashWorkers)
    const pool: Buffer[] = []
    const buffers = { take: () => pool.pop() ?? hasher.alloc(CHUNK_SIZE), give: (b: Buffer) => pool.push(b) }

    const ensureChunk = async (hash: string, view: Buffer, backing: Buffer) => {
      if (putFailure) {
        buffers.give(backing)
        throw putFailure.error
      }
      if (known.has(hash) || inflight.has(hash)) {
        buffers.give(backing)
        return
      }
      const buf = view
      // waiting for a slot is the backpressure that keeps memory independent of file size
      const release = await putSlots.acquire()
      const upload = (async () => {
        try {
          const storeKey = chunkKey(hash)
          if (chunksMayExist && (await store.has(storeKey, { signal }))) return
          await store.put(storeKey, buf, { signal, size: buf.byteLength })
          uploadedChunks++
          uploadedBytes += buf.byteLength
        } finally {
          buffers.give(backing)
          release()
        }
      })()
      inflight.set(hash, upload)
      upload.then(() => known.add(hash), (error: unknown) => { putFailure ??= { error } })
    }

    const results = new Map<string, { entry: FileEntry; record: CacheRecord }>()
    try {
      await runPool(files, ctx.concurrency, async (file) => {
        throwIfAborted(signal, 'snapshot')
        const rec = unchanged.get(file.p)
        if (rec) {
          results.set(file.p, { entry: { p: file.p, t: 'f', m: file.m, mt: file.mt, s: file.s, c: rec.slice(4) as string[] }, record: rec })
          unchangedFiles++
          progress.files++
          progress.bytes += file.s
          onProgress?.({ ...progress })
          return
        }
        const read = await readFileChunks(join(root, file.p), file.p, ensureChunk, buffers, hasher, signal, (n) => {
          progress.bytes += n
          onProgress?.({ ...progress })
        })
        progress.files++
        if (!read) {
          logger.warn(`snapshot: ${file.p} vanished during the walk, not included`)
          return
        }
        results.set(file.p, read)
        onProgress?.({ ...progress })
      })
    } finally {
      await hasher.close()
    }
    await Promise.allSettled(inflight.values())
    if (putFailure) throw putFailure.error
    throwIfAborted(signal, 'snapshot')

    const entries: ManifestEntry[] = []
    let bytes = 0
    for (const e of walked) {
      if (e.t === 'f') {
        const r = results.get(e.p)
        if (!r) continue
        entries.push(r.entry)
        bytes += r.entry.s
      } else entries.push(otherEntry(e))
    }
    const id = newSnapshotId()
    const manifest: Manifest = { format: FORMAT, id, key, createdAt: new Date().toISOString(), chunkSize: CHUNK_SIZE, files: results.size, bytes, entries }
    await store.put(manifestKey(key, id), Buffer.from(JSON.stringify(manifest)), { signal })
    throwIfAborted(signal, 'snapshot')
    // the commit: before this line restore sees the previous snapshot, after it the new one
    await writeRef(store, key, id, signal)

    const records: Record<string, CacheRecord> = {}
    for (const [p, r] of results) records[p] = r.record
    await writeStateCache(root, key, records, { id, digest: entriesDigest(entries) }).catch((err: unknown) => logger.warn(`snapshot: could not write the local state cache (${(err as Error).message})`))
    return { id, committed: true, files: results.size, bytes, uploadedChunks, uploadedBytes, unchangedFiles, durationMs: Date.now() - started }
  } catch (err) {
    throw asAbortError(err, signal, 'snapshot')
  } finally {
    await withinMs(lease.release().catch(() => {}), 1000)
  }
}

/**
 * Reads one file chunk by chunk from a single descriptor. If it changes while being read (size or mtime moved),
 * reads it again; after READ_ATTEMPTS it fails with SCFG_ERR_SNAPSHOT_SOURCE_CHANGED. Undefined = it vanished.
 */
async function readFileChunks(
  abs: string,
  rel: string,
  ensureChunk: (hash: string, view: Buffer, backing: Buffer) => Promise<void>,
  buffers: { take(): Buffer; give(b: Buffer): void },
  hasher: Hasher,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
): Promise<{ entry: FileEntry; record: CacheRecord } | undefined> {
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
      const hashes: string[] = []
      let changed = false
      const handle = fh
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
          return undefined // shrank under us
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
      // the next chunk is read while this one is hashed and handed to the store
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
        let hash: string
        try {
          hash = await hasher.hash(chunk.view)
        } catch (err) {
          buffers.give(chunk.backing)
          await dropNext(next)
          throw err
        }
        hashes.push(hash)
        const len = chunk.view.byteLength
        try {
          await ensureChunk(hash, chunk.view, chunk.backing)
        } catch (err) {
          await dropNext(next)
          throw err
        }
        onBytes(len)
      }
      const after = await fh.stat()
      if (!changed && after.size === size && after.mtimeMs === before.mtimeMs) {
        return {
          entry: { p: rel, t: 'f', m: after.mode & 0o7777, mt: after.mtimeMs, s: size, c: hashes },
          record: [size, after.mtimeMs, after.ino, after.ctimeMs, ...hashes],
        }
      }
    } finally {
      await fh.close()
    }
  }
  throw new ScfGracefulError('SCFG_ERR_SNAPSHOT_SOURCE_CHANGED', `${rel} kept changing while it was read (${READ_ATTEMPTS} attempts); the snapshot was not committed`, { details: { path: rel } })
}
