// Taking a snapshot, in four steps: walk the tree; plan (which files the state cache and the current manifest already
// cover, which chunks the store may hold); upload the chunks of the files that changed; commit (the manifest, then one
// small ref write). Nothing before the ref write changes what restore sees.
import { open, realpath } from 'node:fs/promises'
import { join } from 'node:path'
import { ScfGracefulError } from '../errors.js'
import type { OperationOptions, Progress, SnapshotContext } from './context.js'
import { takeLease } from './gc.js'
import { sha256 } from './hasher.js'
import { CHUNK_SIZE, CHUNKS_PREFIX, chunkKey, FORMAT, manifestKey, newSnapshotId } from './layout.js'
import { loadManifest } from './load.js'
import { type FileEntry, type Manifest, type ManifestEntry, manifestChunks, serializeManifest } from './manifest.js'
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

/** What the walk found. */
interface Tree {
  root: string
  cache: StateCache | undefined
  walked: Walked[]
  files: WalkedFile[]
  totalBytes: number
}

/** What the upload step needs to know before it reads a byte. */
interface Plan {
  /** Chunks the store holds for sure (the current manifest's). */
  known: Set<string>
  /** Files the state cache vouches for, with their records: not read again. */
  unchanged: Map<string, CacheRecord>
  /** False for a store that has no chunk at all: asking has() per chunk would only double the requests. */
  chunksMayExist: boolean
}

/** One file read and stored: its manifest entry and its state-cache record. */
interface StoredFile { entry: FileEntry; record: CacheRecord }

interface Uploaded {
  files: Map<string, StoredFile>
  uploadedChunks: number
  uploadedBytes: number
  unchangedFiles: number
}

export async function takeSnapshot(ctx: SnapshotContext, options: OperationOptions = {}): Promise<SnapshotResult> {
  const { signal } = options
  const started = Date.now()
  throwIfAborted(signal, 'snapshot')
  const tree = await walk(ctx, signal).catch((err: unknown) => {
    throw asAbortError(err, signal, 'snapshot')
  })
  const result = (r: Omit<SnapshotResult, 'durationMs'>): SnapshotResult => ({ ...r, durationMs: Date.now() - started })

  // nothing changed since the snapshot the ref still points at: that snapshot is this one, nothing to write (no
  // lease, no manifest, no ref: a periodic checkpoint of an idle tree costs one ref read)
  const headId = await unchangedHead(ctx, tree, signal).catch((err: unknown) => {
    throw asAbortError(err, signal, 'snapshot')
  })
  if (headId) {
    const n = tree.files.length
    options.onProgress?.({ phase: 'snapshot', files: n, totalFiles: n, bytes: tree.totalBytes, totalBytes: tree.totalBytes })
    return result({ id: headId, committed: false, files: n, bytes: tree.totalBytes, uploadedChunks: 0, uploadedBytes: 0, unchangedFiles: n })
  }

  const lease = await takeLease(ctx.store, 'snapshot', signal).catch((err: unknown) => {
    throw asAbortError(err, signal, 'snapshot')
  })
  try {
    const plan = await planUpload(ctx, tree, signal)
    const uploaded = await upload(ctx, tree, plan, options)
    const { id, bytes } = await commit(ctx, tree, uploaded, signal)
    return result({ id, committed: true, files: uploaded.files.size, bytes, uploadedChunks: uploaded.uploadedChunks, uploadedBytes: uploaded.uploadedBytes, unchangedFiles: uploaded.unchangedFiles })
  } catch (err) {
    throw asAbortError(err, signal, 'snapshot')
  } finally {
    await withinMs(lease.release().catch(() => {}), 1000)
  }
}

/** Step 1: the tree under root (the store's own directory left out) and the state cache of the last run. */
async function walk(ctx: SnapshotContext, signal: AbortSignal | undefined): Promise<Tree> {
  const root = await realpath(ctx.root)
  const cache = await readStateCache(root, ctx.key)
  const skipDirs: string[] = []
  const { localDir } = ctx.store
  if (localDir) {
    const dir = await realpath(localDir).catch(() => localDir)
    if (isInside(root, dir)) skipDirs.push(dir)
  }
  const walked = await walkTree({ root, include: ctx.include, exclude: ctx.exclude, skipDirs, signal, logger: ctx.logger })
  const files = walked.filter((e): e is WalkedFile => e.type === 'file')
  return { root, cache, walked, files, totalBytes: files.reduce((n, f) => n + f.size, 0) }
}

/** Size, mtime, inode and ctime as the state cache recorded them: the file was not touched since. */
const sameFile = (rec: CacheRecord, file: WalkedFile) => rec[0] === file.size && rec[1] === file.mtimeMs && rec[2] === file.ino && rec[3] === file.ctimeMs
const chunksOf = (rec: CacheRecord) => rec.slice(4) as string[]
const fileEntry = (file: WalkedFile, chunks: string[]): FileEntry => ({ type: 'file', path: file.path, mode: file.mode, mtimeMs: file.mtimeMs, size: file.size, chunks })

/** The head's id when the walked tree is exactly the snapshot the ref points at (by the state cache); else undefined. */
async function unchangedHead(ctx: SnapshotContext, tree: Tree, signal: AbortSignal | undefined): Promise<string | undefined> {
  const head = tree.cache?.head
  if (!head) return undefined
  const entries: ManifestEntry[] = []
  for (const e of tree.walked) {
    if (e.type !== 'file') {
      entries.push(e)
      continue
    }
    const rec = tree.cache!.files[e.path]
    if (!rec || !sameFile(rec, e)) return undefined
    entries.push(fileEntry(e, chunksOf(rec)))
  }
  if (entriesDigest(entries) !== head.digest) return undefined
  return (await readRef(ctx.store, ctx.key, signal)) === head.id ? head.id : undefined
}

/** Step 2: what is known already, so the upload step reads and asks about only what changed. */
async function planUpload(ctx: SnapshotContext, tree: Tree, signal: AbortSignal | undefined): Promise<Plan> {
  const { store, key } = ctx
  const known = new Set<string>()
  const headId = await readRef(store, key, signal)
  if (headId) {
    try {
      manifestChunks(await loadManifest(store, key, headId, signal), known)
    } catch (err) {
      if (signal?.aborted) throw err
      ctx.logger.warn(`snapshot: previous manifest ${headId} unreadable, re-checking every chunk (${(err as Error).message})`)
    }
  }
  // files whose stat identity matches the state cache and whose chunks the current manifest references are not read
  const unchanged = new Map<string, CacheRecord>()
  let bytesToRead = 0
  for (const file of tree.files) {
    const rec = tree.cache?.files[file.path]
    if (rec && sameFile(rec, file) && chunksOf(rec).every((h) => known.has(h))) unchanged.set(file.path, rec)
    else bytesToRead += file.size
  }
  // a store with no chunk at all (a first snapshot) cannot have any of ours. Skipping has() is always safe, only
  // wasteful: a put of a content-addressed chunk that exists (a concurrent writer's) replaces it with the same bytes.
  let chunksMayExist = known.size > 0
  if (!chunksMayExist && bytesToRead > 0) {
    for await (const _ of store.list(CHUNKS_PREFIX, { signal })) {
      chunksMayExist = true
      break
    }
  }
  return { known, unchanged, chunksMayExist }
}

/** Chunk-sized buffers, reused: bounded memory, no garbage for the GC to chase. */
interface BufferPool { take(): Buffer; give(b: Buffer): void }

/**
 * Hands chunks to the store, at most `concurrency` puts at once (waiting for a slot is the backpressure that keeps
 * memory independent of file size), each chunk once. A buffer goes back to the pool once its put settled.
 */
function chunkUploader(ctx: SnapshotContext, plan: Plan, buffers: BufferPool, signal: AbortSignal | undefined) {
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

type ChunkUploader = ReturnType<typeof chunkUploader>

/** Step 3: every file not vouched for is read, hashed chunk by chunk, and its new chunks stored. */
async function upload(ctx: SnapshotContext, tree: Tree, plan: Plan, options: OperationOptions): Promise<Uploaded> {
  const { signal, onProgress } = options
  const progress: Progress = { phase: 'snapshot', files: 0, totalFiles: tree.files.length, bytes: 0, totalBytes: tree.totalBytes }
  const report = () => onProgress?.({ ...progress })
  const pool: Buffer[] = []
  const buffers: BufferPool = { take: () => pool.pop() ?? Buffer.allocUnsafe(CHUNK_SIZE), give: (b) => pool.push(b) }
  const uploader = chunkUploader(ctx, plan, buffers, signal)
  const files = new Map<string, StoredFile>()
  let unchangedFiles = 0
  await runPool(tree.files, ctx.concurrency, async (file) => {
    throwIfAborted(signal, 'snapshot')
    const rec = plan.unchanged.get(file.path)
    if (rec) {
      files.set(file.path, { entry: fileEntry(file, chunksOf(rec)), record: rec })
      unchangedFiles++
      progress.files++
      progress.bytes += file.size
      report()
      return
    }
    const stored = await readFileChunks({ abs: join(tree.root, file.path), path: file.path, uploader, buffers, signal, onBytes: (n) => { progress.bytes += n; report() } })
    progress.files++
    if (!stored) {
      ctx.logger.warn(`snapshot: ${file.path} vanished during the walk, not included`)
      return
    }
    files.set(file.path, stored)
    report()
  })
  await uploader.settle()
  throwIfAborted(signal, 'snapshot')
  return { files, unchangedFiles, ...uploader.stats }
}

/** Step 4: the manifest after all its chunks, then the ref (the commit), then the local state cache. */
async function commit(ctx: SnapshotContext, tree: Tree, uploaded: Uploaded, signal: AbortSignal | undefined): Promise<{ id: string; bytes: number }> {
  const { store, key } = ctx
  const entries: ManifestEntry[] = []
  let bytes = 0
  for (const e of tree.walked) {
    if (e.type !== 'file') {
      entries.push(e)
      continue
    }
    const stored = uploaded.files.get(e.path)
    if (!stored) continue
    entries.push(stored.entry)
    bytes += stored.entry.size
  }
  const id = newSnapshotId()
  const manifest: Manifest = { format: FORMAT, id, key, createdAt: new Date().toISOString(), chunkSize: CHUNK_SIZE, files: uploaded.files.size, bytes, entries }
  await store.put(manifestKey(key, id), serializeManifest(manifest), { signal })
  throwIfAborted(signal, 'snapshot')
  // the commit: before this line restore sees the previous snapshot, after it the new one
  await writeRef(store, key, id, signal)

  const records: Record<string, CacheRecord> = {}
  for (const [p, stored] of uploaded.files) records[p] = stored.record
  await writeStateCache(tree.root, key, records, { id, digest: entriesDigest(entries) }).catch((err: unknown) => ctx.logger.warn(`snapshot: could not write the local state cache (${(err as Error).message})`))
  return { id, bytes }
}

interface ReadFileOptions {
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
async function readFileChunks({ abs, path, uploader, buffers, signal, onBytes }: ReadFileOptions): Promise<StoredFile | undefined> {
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
