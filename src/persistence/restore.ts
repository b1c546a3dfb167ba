// Restoring: validate the whole manifest first, then write every file to a temp name in its final directory,
// verifying each chunk's SHA-256 before its bytes touch the disk, and rename into place. Never outside root.
import { close as fsClose, closeSync, fchmod as fsFchmod, fchmodSync, futimes as fsFutimes, futimesSync, lstatSync, open as fsOpen, openSync, rename as fsRename, renameSync, stat as fsStat, statSync, type Stats, write as fsWrite, writeSync } from 'node:fs'
import { chmod, lstat, lutimes, mkdir, realpath, rename, rm, symlink, unlink, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { ScfGracefulError } from '../errors.js'
import type { OperationOptions, Progress, SnapshotContext } from './context.js'
import { type Lease, takeLease } from './gc.js'
import { sha256 } from './hasher.js'
import { chunkKey } from './layout.js'
import type { DirEntry, FileEntry, LinkEntry, Manifest, ManifestEntry } from './manifest.js'
import { diskLookup, entriesLookup, linkStaysInside } from './links.js'
import { loadManifest } from './load.js'
import { readRef } from './refs.js'
import { removeLeftoverTemps, tempName } from './temp-files.js'
import { type CacheRecord, identityDigester, writeStateCache } from './state-cache.js'
import type { SnapshotStore } from './store.js'
import { asAbortError, createSemaphore, loopTurns, onThreadPool, runPool, syncWhileFast, throwIfAborted, withinMs } from './util.js'

export interface RestoreResult {
  /** The id of the snapshot that was restored. */
  id: string
  files: number
  bytes: number
  durationMs: number
}

const FS_WRITE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EACCES', 'EPERM', 'EFBIG', 'EMFILE', 'ENFILE', 'ENAMETOOLONG', 'EISDIR', 'ENOTDIR', 'EEXIST', 'ENOTEMPTY'])

function writeError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code && FS_WRITE_ERRORS.has(code)) return new ScfGracefulError('SCFG_ERR_RESTORE_WRITE', `restore could not write ${path}: ${code}`, { cause: err, details: { path, errno: code } })
  return err
}

export async function restoreSnapshot(ctx: SnapshotContext, options: OperationOptions = {}): Promise<RestoreResult> {
  const { store, key } = ctx
  const { signal } = options
  const started = Date.now()
  let lease: Lease | undefined
  try {
    throwIfAborted(signal, 'restore')
    // a reader lease: prune deletes nothing (no manifest, no chunk) while this restore runs, even when another writer
    // commits and keepLast would drop the snapshot being read
    lease = await takeLease(store, 'restore', signal)
    const id = await readRef(store, key, signal)
    if (!id) throw new ScfGracefulError('SCFG_ERR_SNAPSHOT_NOT_FOUND', `no snapshot under key "${key}" in the ${store.kind} store`, { details: { key } })
    // parseManifest (inside) rejects every hostile path before anything below writes a byte
    const manifest = await loadManifest(store, key, id, signal)
    await refuseEscapingLinks(manifest.entries)
    options.onManifest?.(manifest.entries)
    await mkdir(ctx.root, { recursive: true }).catch((err: unknown) => { throw writeError(err, ctx.root) })
    const root = await realpath(ctx.root)

    const dirs = manifest.entries.filter((e): e is DirEntry => e.type === 'dir')
    const files = manifest.entries.filter((e): e is FileEntry => e.type === 'file')
    const links = manifest.entries.filter((e): e is LinkEntry => e.type === 'link')
    const created = await makeDirs(root, dirs, signal)
    const written = await writeFiles(ctx, { root, manifest, files, created }, options)
    await writeLinks(root, links, signal)
    await setDirAttributes(root, dirs)
    // the head lets the next snapshot of an untouched tree skip writing a copy of this manifest: the tree's identity
    // as the next walk will find it, so from what lstat says now (a mtime set through utimes can come back a
    // microsecond off the manifest's, and a directory's or link's entry would then differ for ever after)
    const identity = identityDigester()
    const records: Record<string, CacheRecord> = {}
    const turn = loopTurns()
    for (const e of manifest.entries) {
      await turn()
      if (e.type === 'file') {
        const { record, mode } = written.get(e.path)!
        records[e.path] = record
        identity.record(e.path, mode, record)
        continue
      }
      const st = lstatSync(join(root, e.path), { throwIfNoEntry: false })
      if (!st) identity.other(e)
      else if (e.type === 'dir') identity.other({ ...e, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs })
      else identity.other({ ...e, mtimeMs: st.mtimeMs })
    }
    await writeStateCache(root, key, records, { id, digest: identity.end() }).catch((err: unknown) => ctx.logger.warn(`restore: could not write the local state cache (${(err as Error).message})`))
    return { id, files: files.length, bytes: manifest.bytes, durationMs: Date.now() - started }
  } catch (err) {
    throw asAbortError(err, signal, 'restore')
  } finally {
    if (lease) await withinMs(lease.release().catch(() => {}), 1000)
  }
}

/**
 * Makes every directory of the manifest a real directory, and removes a killed restore's temp files from those that
 * existed before. Resolves with the directories this restore created (empty: nothing can stand in a file's way there).
 */
async function makeDirs(root: string, dirs: readonly DirEntry[], signal: AbortSignal | undefined): Promise<Set<string>> {
  const created = new Set<string>()
  for (const d of dirs) {
    throwIfAborted(signal, 'restore')
    if (await ensureDir(root, d.path)) created.add(d.path)
  }
  for (const dir of ['', ...dirs.filter((d) => !created.has(d.path)).map((d) => d.path)]) await removeLeftoverTemps(join(root, dir))
  return created
}

interface FilesToWrite {
  root: string
  manifest: Manifest
  files: readonly FileEntry[]
  /** Directories this restore created. */
  created: ReadonlySet<string>
}

/** A restored file as stat found it after its rename: its state-cache record and its mode. */
interface WrittenFile { record: CacheRecord; mode: number }

/** Writes every file, `concurrency` at once; resolves with what stat found of each. */
async function writeFiles(ctx: SnapshotContext, { root, manifest, files, created }: FilesToWrite, { signal, onProgress }: OperationOptions): Promise<Map<string, WrittenFile>> {
  const progress: Progress = { phase: 'restore', files: 0, totalFiles: files.length, bytes: 0, totalBytes: manifest.bytes }
  const written = new Map<string, WrittenFile>()
  const chunks: ChunkReader = {
    store: ctx.store,
    slots: createSemaphore(ctx.concurrency * 2),
    buffers: [],
    chunkSize: manifest.chunkSize,
    signal,
    turn: loopTurns(),
    io: writeIo(() => ctx.logger.warn(`restore: writing to ${root} is slow (a network mount?); its file calls go to the thread pool`)),
  }
  await runPool(files, ctx.concurrency, async (file) => {
    // per file, before its synchronous create: a file without chunks (empty) makes no other check
    for (let due = chunks.turn(); due; due = chunks.turn()) await due
    throwIfAborted(signal, 'restore')
    written.set(file.path, await restoreFile(chunks, {
      root,
      file,
      parentCreated: created.has(parentOf(file.path)),
      onBytes: (n) => {
        progress.bytes += n
        onProgress?.({ ...progress })
      },
    }))
    progress.files++
    onProgress?.({ ...progress })
  })
  return written
}

/** Each link goes to a temp name and is renamed into place; then none may resolve out of root (see below). */
async function writeLinks(root: string, links: readonly LinkEntry[], signal: AbortSignal | undefined): Promise<void> {
  for (const l of links) {
    throwIfAborted(signal, 'restore')
    const final = join(root, l.path)
    const tmp = join(root, parentOf(l.path), tempName())
    try {
      await symlink(l.target, tmp)
      // the link's own mtime, as the manifest has it (a rename keeps it)
      await lutimes(tmp, l.mtimeMs / 1000, l.mtimeMs / 1000)
      await clearForFile(final)
      await rename(tmp, final)
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => {})
      throw writeError(err, l.path)
    }
  }
  // entries already on disk that the snapshot does not list (restore merges) can lead a link elsewhere than the
  // manifest alone says: what counts is where the kernel resolves it now
  await removeLinksLeadingOut(root, links)
}

/** Directories last and deepest first: their mode may forbid writing, and writing inside moves their mtime. */
async function setDirAttributes(root: string, dirs: readonly DirEntry[]): Promise<void> {
  for (const d of [...dirs].reverse()) {
    const abs = join(root, d.path)
    try {
      await chmod(abs, d.mode & PERMISSION_BITS)
      await utimes(abs, d.mtimeMs / 1000, d.mtimeMs / 1000)
    } catch (err) {
      throw writeError(err, d.path)
    }
  }
}

/** Modes from a store keep only permission bits: a snapshot never brings back setuid, setgid or sticky. */
const PERMISSION_BITS = 0o777

/** Refuses a manifest with a symlink that leads out of root through its other symlinks, before anything is written. */
async function refuseEscapingLinks(entries: readonly ManifestEntry[]): Promise<void> {
  if (!entries.some((e) => e.type === 'link')) return
  const lookup = entriesLookup(entries)
  // the lookup answers synchronously: awaiting it is no turn of the event loop
  const turn = loopTurns()
  for (const e of entries) {
    if (e.type !== 'link') continue
    await turn()
    if (!(await linkStaysInside(e.path, e.target, lookup))) {
      throw new ScfGracefulError('SCFG_ERR_MANIFEST_INVALID', `invalid manifest: symlink ${JSON.stringify(e.path)} -> ${JSON.stringify(e.target)} leads out of root (through another symlink)`, { details: { path: e.path } })
    }
  }
}

/** Removes every restored link the kernel would resolve outside root, then fails the restore naming them. */
async function removeLinksLeadingOut(root: string, links: readonly LinkEntry[]): Promise<void> {
  if (links.length === 0) return
  const lookup = diskLookup(root)
  const out: string[] = []
  for (const l of links) if (!(await linkStaysInside(l.path, l.target, lookup))) out.push(l.path)
  if (out.length === 0) return
  for (const p of out) await rm(join(root, p), { force: true })
  throw new ScfGracefulError('SCFG_ERR_RESTORE_WRITE', `restore removed symlink ${out.join(', ')}: with entries already under root that the snapshot does not list, it would lead out of root`, { details: { path: out[0], paths: out } })
}

function parentOf(p: string): string {
  const i = p.lastIndexOf('/')
  return i === -1 ? '' : p.slice(0, i)
}

/**
 * Makes root/p a real directory; anything else in the way (a symlink above all) is removed, never followed.
 * True when it created the directory.
 */
async function ensureDir(root: string, p: string): Promise<boolean> {
  const abs = join(root, p)
  try {
    const st = await lstat(abs)
    if (st.isDirectory()) return false
    await rm(abs, { force: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw writeError(err, p)
  }
  try {
    await mkdir(abs, { mode: 0o700 })
    return true
  } catch (err) {
    throw writeError(err, p)
  }
}

/** Whatever sits at a file's final path (a directory from an older tree) must go; a file or link is replaced by rename. */
async function clearForFile(abs: string): Promise<void> {
  try {
    const st = await lstat(abs)
    if (st.isDirectory()) await rm(abs, { recursive: true, force: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

const PER_FILE_CHUNKS = 2

/** What reading chunks needs, shared by every file of one restore. */
interface ChunkReader {
  store: SnapshotStore
  /** Bounds the chunks held in memory across all files. */
  slots: { acquire(): Promise<() => void> }
  /** Chunk-sized buffers, reused: memory stays at slots x chunk size, with no garbage for the GC to chase. */
  buffers: Buffer[]
  chunkSize: number
  signal: AbortSignal | undefined
  /** Gives the event loop a turn every 10 ms of synchronous calls (loopTurns). */
  turn(): Promise<void> | undefined
  io: WriteIo
}

/**
 * Reads a chunk into one buffer of exactly `expected` bytes and checks its SHA-256; 'missing' when the store lacks
 * it, 'corrupt' when its size or hash is wrong (a hostile store cannot make it hold more than `expected` bytes).
 */
async function readVerified({ store, signal, turn }: ChunkReader, hash: string, expected: number, into: Buffer): Promise<Buffer | 'missing' | 'corrupt'> {
  const key = chunkKey(hash)
  const buf = into.subarray(0, expected)
  if (store.readInto) {
    const size = await store.readInto(key, buf, { signal })
    if (size === undefined) return 'missing'
    if (size !== expected) return 'corrupt'
  } else {
    const body = await store.get(key, { signal })
    if (!body) return 'missing'
    let got = 0
    for await (const part of body) {
      if (got + part.byteLength > expected) {
        ;(body as { destroy?: () => void }).destroy?.()
        return 'corrupt'
      }
      buf.set(part, got)
      got += part.byteLength
    }
    if (got !== expected) return 'corrupt'
  }
  // the hash is a synchronous step of its own (fsStore's read before it was one too; memoryStore's never yields)
  for (let due = turn(); due; due = turn()) await due
  return sha256(buf) === hash ? buf : 'corrupt'
}

interface FileToWrite {
  root: string
  file: FileEntry
  /** The file's directory was created by this restore (nothing else can be in the way). */
  parentCreated: boolean
  onBytes(n: number): void
}

/** The calls writing a restored file makes: synchronous on the local disk, on the thread pool once it proved slow. */
interface WriteIo {
  create(path: string): Promise<number>
  write(fd: number, from: Buffer, offset: number, length: number, position: number): Promise<number>
  /** Sets the mode and times and closes: the file is complete. */
  finish(fd: number, mode: number, mtimeMs: number): Promise<void>
  close(fd: number): Promise<void>
  rename(from: string, to: string): Promise<void>
  stat(path: string): Promise<Stats>
}

/** A 4 MiB write into the page cache takes a millisecond or two; three calls in a row past this are a slow disk. */
const SYNC_CALL_BUDGET_MS = 20
const SLOW_CALLS_TO_SWITCH = 3

/**
 * The restore's file calls. Its root is meant to be the instance's local disk (/tmp), where a synchronous call costs
 * less than a thread-pool round trip and its promise (about 15 % of a restore's CPU); a root that turns out slow
 * (a network mount, where a call can block the event loop for a round trip) goes to the thread pool for the rest
 * of the restore. The loop gets a turn at least every 10 ms either way (ChunkReader.turn).
 */
function writeIo(onSlow: () => void): WriteIo {
  const disk = syncWhileFast(SYNC_CALL_BUDGET_MS, SLOW_CALLS_TO_SWITCH, onSlow)
  return {
    create: async (path) => (disk.sync ? disk.timed(() => openSync(path, 'wx', 0o600)) : onThreadPool<number>((cb) => fsOpen(path, 'wx', 0o600, cb))),
    write: async (fd, from, offset, length, position) =>
      disk.sync ? disk.timed(() => writeSync(fd, from, offset, length, position)) : onThreadPool<number>((cb) => fsWrite(fd, from, offset, length, position, cb)),
    finish: async (fd, mode, mtimeMs) => {
      const seconds = mtimeMs / 1000
      // the descriptor is closed whatever fails before
      if (disk.sync) {
        return disk.timed(() => {
          try {
            fchmodSync(fd, mode)
            futimesSync(fd, seconds, seconds)
          } finally {
            closeSync(fd)
          }
        })
      }
      try {
        await onThreadPool<void>((cb) => fsFchmod(fd, mode, (err) => cb(err, undefined)))
        await onThreadPool<void>((cb) => fsFutimes(fd, seconds, seconds, (err) => cb(err, undefined)))
      } finally {
        await onThreadPool<void>((cb) => fsClose(fd, (err) => cb(err, undefined)))
      }
    },
    close: async (fd) => (disk.sync ? disk.timed(() => closeSync(fd)) : onThreadPool<void>((cb) => fsClose(fd, (err) => cb(err, undefined)))),
    rename: async (from, to) => (disk.sync ? disk.timed(() => renameSync(from, to)) : onThreadPool<void>((cb) => fsRename(from, to, (err) => cb(err, undefined)))),
    stat: async (path) => (disk.sync ? disk.timed(() => statSync(path)) : onThreadPool<Stats>((cb) => fsStat(path, cb))),
  }
}

/** Writes one file to a temp name in its directory, chunk by verified chunk, then renames it into place. */
async function restoreFile(chunks: ChunkReader, { root, file, parentCreated, onBytes }: FileToWrite): Promise<WrittenFile> {
  const { signal, chunkSize, turn, io } = chunks
  const final = join(root, file.path)
  const tmp = join(root, parentOf(file.path), tempName())
  let fd: number | undefined
  try {
    fd = await io.create(tmp)
  } catch (err) {
    throw writeError(err, file.path)
  }
  let done = false
  try {
    // chunks of one file are fetched and verified a few at a time and written at their offsets (order does not
    // matter for positional writes); the shared slots bound the bytes held in memory across all files
    const out = fd
    await runPool(file.chunks.keys(), Math.min(PER_FILE_CHUNKS, file.chunks.length), async (i) => {
      throwIfAborted(signal, 'restore')
      const release = await chunks.slots.acquire()
      const slotBuffer = chunks.buffers.pop() ?? Buffer.allocUnsafe(chunkSize)
      try {
        // a turn check right before each synchronous step: the read here, the hash in readVerified, the write below
        // (loopTurns). A first read into a fresh buffer also pays its page faults: 15–20 ms for 4 MiB on this VM.
        for (let due = turn(); due; due = turn()) await due
        const hash = file.chunks[i]!
        const verified = await readVerified(chunks, hash, Math.min(chunkSize, file.size - i * chunkSize), slotBuffer)
        if (verified === 'missing') throw new ScfGracefulError('SCFG_ERR_CHUNK_MISSING', `chunk ${hash} of ${file.path} is missing from the ${chunks.store.kind} store`, { details: { path: file.path, chunk: hash } })
        if (verified === 'corrupt') {
          throw new ScfGracefulError('SCFG_ERR_CHUNK_CORRUPT', `chunk ${hash} of ${file.path} does not match its SHA-256; ${file.path} was not written`, { details: { path: file.path, chunk: hash } })
        }
        for (let due = turn(); due; due = turn()) await due
        let written = 0
        try {
          while (written < verified.byteLength) written += await io.write(out, verified, written, verified.byteLength - written, i * chunkSize + written)
        } catch (err) {
          throw writeError(err, file.path)
        }
        onBytes(verified.byteLength)
      } finally {
        chunks.buffers.push(slotBuffer)
        release()
      }
    })
    try {
      const complete = fd
      fd = undefined
      await io.finish(complete, file.mode & PERMISSION_BITS, file.mtimeMs)
      // in a directory this restore created, a directory in the way could only come from a concurrent writer: the
      // rename then fails (EISDIR) instead of merging into it
      if (!parentCreated) await clearForFile(final)
      await io.rename(tmp, final)
      done = true
      const st = await io.stat(final)
      return { record: [st.size, st.mtimeMs, st.ino, st.ctimeMs, ...file.chunks], mode: st.mode & 0o7777 }
    } catch (err) {
      throw writeError(err, file.path)
    }
  } finally {
    if (fd !== undefined) await io.close(fd).catch(() => {})
    if (!done) await unlink(tmp).catch(() => {})
  }
}
