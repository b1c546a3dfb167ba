// Taking a snapshot, in four steps: walk the tree; plan (which files the state cache and the current manifest already
// cover, which chunks the store may hold); upload the chunks of the files that changed; commit (the manifest, then one
// small ref write). Nothing before the ref write changes what restore sees.
import { realpath } from 'node:fs/promises'
import { join } from 'node:path'
import type { OperationOptions, Progress, SnapshotContext } from './context.js'
import { takeLease } from './gc.js'
import { type BufferPool, chunkUploader, localFileIo, type Plan, readFileChunks, type StoredFile, threadPoolFileIo } from './chunk-upload.js'
import { CHUNK_SIZE, CHUNKS_PREFIX, FORMAT, manifestKey, newSnapshotId } from './layout.js'
import { loadManifest } from './load.js'
import { type FileEntry, type Manifest, type ManifestEntry, manifestChunks, serializeManifest } from './manifest.js'
import { readRef, writeRef } from './refs.js'
import { type CacheRecord, identityDigester, readHead, readStateCache, writeStateCache } from './state-cache.js'
import { asAbortError, loopTurns, runPool, throwIfAborted, withinMs } from './util.js'
import { isInside, walkTree, type Walked, type WalkedFile } from './walk.js'

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

/** What the walk found. */
interface Tree {
  root: string
  /** The walk found the disk slow (a network mount): files are read on the thread pool. */
  slowDisk: boolean
  walked: Walked[]
  files: WalkedFile[]
  totalBytes: number
}

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

/** Step 1: the tree under root (the store's own directory left out). */
async function walk(ctx: SnapshotContext, signal: AbortSignal | undefined): Promise<Tree> {
  const root = await realpath(ctx.root)
  const skipDirs: string[] = []
  const { localDir } = ctx.store
  if (localDir) {
    const dir = await realpath(localDir).catch(() => localDir)
    if (isInside(root, dir)) skipDirs.push(dir)
  }
  let slowDisk = false
  const walked = await walkTree({ root, include: ctx.include, exclude: ctx.exclude, skipDirs, signal, logger: ctx.logger, onSlowDisk: () => { slowDisk = true } })
  const files = walked.filter((e): e is WalkedFile => e.type === 'file')
  return { root, slowDisk, walked, files, totalBytes: files.reduce((n, f) => n + f.size, 0) }
}

/** Size, mtime, inode and ctime as the state cache recorded them: the file was not touched since. */
const sameFile = (rec: CacheRecord, file: WalkedFile) => rec[0] === file.size && rec[1] === file.mtimeMs && rec[2] === file.ino && rec[3] === file.ctimeMs
const chunksOf = (rec: CacheRecord) => rec.slice(4) as string[]
const fileEntry = (file: WalkedFile, chunks: string[]): FileEntry => ({ type: 'file', path: file.path, mode: file.mode, mtimeMs: file.mtimeMs, size: file.size, chunks })

/**
 * The head's id when the walked tree is exactly the snapshot the ref points at: its identity digest is the one
 * recorded when that snapshot was committed or restored here. Reads one small local file and the ref, nothing else.
 */
async function unchangedHead(ctx: SnapshotContext, tree: Tree, signal: AbortSignal | undefined): Promise<string | undefined> {
  const head = await readHead(tree.root, ctx.key)
  if (!head) return undefined
  const digest = identityDigester()
  for (const e of tree.walked) {
    if (e.type === 'file') digest.file(e.path, e.mode, e.mtimeMs, e.size, e.ino, e.ctimeMs)
    else digest.other(e)
  }
  if (digest.end() !== head.digest) return undefined
  return (await readRef(ctx.store, ctx.key, signal)) === head.id ? head.id : undefined
}

/** Step 2: what is known already, so the upload step reads and asks about only what changed. */
async function planUpload(ctx: SnapshotContext, tree: Tree, signal: AbortSignal | undefined): Promise<Plan> {
  const { store, key } = ctx
  const known = new Set<string>()
  const cache = await readStateCache(tree.root, key)
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
    const rec = cache?.files[file.path]
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

/** Step 3: every file not vouched for is read, hashed chunk by chunk, and its new chunks stored. */
async function upload(ctx: SnapshotContext, tree: Tree, plan: Plan, options: OperationOptions): Promise<Uploaded> {
  const { signal, onProgress } = options
  const progress: Progress = { phase: 'snapshot', files: 0, totalFiles: tree.files.length, bytes: 0, totalBytes: tree.totalBytes }
  const report = () => onProgress?.({ ...progress })
  const pool: Buffer[] = []
  const buffers: BufferPool = { take: () => pool.pop() ?? Buffer.allocUnsafe(CHUNK_SIZE), give: (b) => pool.push(b) }
  const uploader = chunkUploader(ctx, plan, buffers, signal)
  const turn = loopTurns()
  const io = tree.slowDisk ? threadPoolFileIo : localFileIo
  const files = new Map<string, StoredFile>()
  let unchangedFiles = 0
  await runPool(tree.files, ctx.concurrency, async (file) => {
    // per file, before its synchronous open: an empty file is read without a chunk, so without the chunks' checks
    for (let due = turn(); due; due = turn()) await due
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
    const stored = await readFileChunks({ abs: join(tree.root, file.path), path: file.path, uploader, buffers, signal, turn, io, onBytes: (n) => { progress.bytes += n; report() } })
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
  // the tree's identity as the next walk will find it if nothing is touched: a file's fields as read after its bytes
  const identity = identityDigester()
  let bytes = 0
  const turn = loopTurns()
  for (const e of tree.walked) {
    await turn()
    if (e.type !== 'file') {
      entries.push(e)
      identity.other(e)
      continue
    }
    const stored = uploaded.files.get(e.path)
    if (!stored) continue
    const { entry, record } = stored
    entries.push(entry)
    identity.record(entry.path, entry.mode, record)
    bytes += entry.size
  }
  const id = newSnapshotId()
  const manifest: Manifest = { format: FORMAT, id, key, createdAt: new Date().toISOString(), chunkSize: CHUNK_SIZE, files: uploaded.files.size, bytes, entries }
  await store.put(manifestKey(key, id), serializeManifest(manifest), { signal })
  throwIfAborted(signal, 'snapshot')
  // the commit: before this line restore sees the previous snapshot, after it the new one
  await writeRef(store, key, id, signal)

  const records: Record<string, CacheRecord> = {}
  for (const [p, stored] of uploaded.files) records[p] = stored.record
  await writeStateCache(tree.root, key, records, { id, digest: identity.end() }).catch((err: unknown) => ctx.logger.warn(`snapshot: could not write the local state cache (${(err as Error).message})`))
  return { id, bytes }
}
