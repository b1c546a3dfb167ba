// Restoring: validate the whole manifest first, then write every file to a temp name in its final directory,
// verifying each chunk's SHA-256 before its bytes touch the disk, and rename into place. Never outside root.
import { randomBytes } from 'node:crypto'
import { chmod, lstat, lutimes, mkdir, open, realpath, rename, rm, stat, symlink, unlink, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { ScfGracefulError } from '../errors.js'
import type { SnapshotContext, OperationOptions } from './context.js'
import { type Hasher, hasherFor } from './hasher.js'
import { chunkKey } from './layout.js'
import type { DirEntry, FileEntry, LinkEntry } from './manifest.js'
import { loadManifest } from './load.js'
import { readRef } from './refs.js'
import { type CacheRecord, entriesDigest, writeStateCache } from './state-cache.js'
import { asAbortError, createSemaphore, runPool, throwIfAborted } from './util.js'

export interface RestoreResult {
  /** The id of the snapshot that was restored. */
  id: string
  files: number
  bytes: number
  durationMs: number
}

// temp names only need to be unique within this process and not collide with another process's (pid + counter);
// a random per-file name costs a synchronous CSPRNG call per file
const tmpPrefix = randomBytes(4).toString('hex')
let tmpCounter = 0
const tmpName = () => `.scfg-${tmpPrefix}-${process.pid.toString(36)}-${(tmpCounter++).toString(36)}.tmp`

const FS_WRITE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EACCES', 'EPERM', 'EFBIG', 'EMFILE', 'ENFILE', 'ENAMETOOLONG', 'EISDIR', 'ENOTDIR', 'EEXIST', 'ENOTEMPTY'])

function writeError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code && FS_WRITE_ERRORS.has(code)) return new ScfGracefulError('SCFG_ERR_RESTORE_WRITE', `restore could not write ${path}: ${code}`, { cause: err, details: { path, errno: code } })
  return err
}

export async function restoreSnapshot(ctx: SnapshotContext, options: OperationOptions = {}): Promise<RestoreResult> {
  const { store, key } = ctx
  const { signal, onProgress } = options
  const started = Date.now()
  try {
    throwIfAborted(signal, 'restore')
    const id = await readRef(store, key, signal)
    if (!id) throw new ScfGracefulError('SCFG_ERR_SNAPSHOT_NOT_FOUND', `no snapshot under key "${key}" in the ${store.kind} store`, { details: { key } })
    // parseManifest (inside) rejects every hostile path before anything below writes a byte
    const manifest = await loadManifest(store, key, id, signal)
    options.onManifest?.(manifest.entries)
    await mkdir(ctx.root, { recursive: true }).catch((err: unknown) => { throw writeError(err, ctx.root) })
    const root = await realpath(ctx.root)

    const dirs = manifest.entries.filter((e): e is DirEntry => e.t === 'd')
    const files = manifest.entries.filter((e): e is FileEntry => e.t === 'f')
    const links = manifest.entries.filter((e): e is LinkEntry => e.t === 'l')
    // directories this restore created are empty: nothing can stand in a file's way there
    const created = new Set<string>()
    for (const d of dirs) {
      throwIfAborted(signal, 'restore')
      if (await ensureDir(root, d.p)) created.add(d.p)
    }
    const progress = { phase: 'restore' as const, files: 0, totalFiles: files.length, bytes: 0, totalBytes: manifest.bytes }
    const records: Record<string, CacheRecord> = {}
    const chunkSlots = createSemaphore(ctx.concurrency * 2)
    const buffers: Buffer[] = []
    const hasher = hasherFor(manifest.bytes, ctx.hashWorkers)
    try {
      await runPool(files, ctx.concurrency, async (file) => {
        throwIfAborted(signal, 'restore')
        records[file.p] = await restoreFile(ctx, chunkSlots, buffers, hasher, root, manifest.chunkSize, file, created.has(parentOf(file.p)), signal, (n) => {
          progress.bytes += n
          onProgress?.({ ...progress })
        })
        progress.files++
        onProgress?.({ ...progress })
      })
    } finally {
      await hasher.close()
    }
    for (const l of links) {
      throwIfAborted(signal, 'restore')
      const final = join(root, l.p)
      const tmp = join(root, parentOf(l.p), tmpName())
      try {
        await symlink(l.tg, tmp)
        // the link's own mtime, as the manifest has it (a rename keeps it)
        await lutimes(tmp, l.mt / 1000, l.mt / 1000)
        await clearForFile(final)
        await rename(tmp, final)
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => {})
        throw writeError(err, l.p)
      }
    }
    // directories last and deepest first: their mode may forbid writing, and writing inside moves their mtime
    for (const d of [...dirs].reverse()) {
      const abs = join(root, d.p)
      try {
        await chmod(abs, d.m)
        await utimes(abs, d.mt / 1000, d.mt / 1000)
      } catch (err) {
        throw writeError(err, d.p)
      }
    }
    // the head lets the next snapshot of an untouched tree skip writing a copy of this manifest, when the walk finds
    // the tree exactly as the manifest says (mtimes set by utimes can come back a microsecond off: then the first
    // snapshot writes a manifest once, and the ones after it nothing)
    await writeStateCache(root, key, records, { id, digest: entriesDigest(manifest.entries) }).catch((err: unknown) => ctx.logger.warn(`restore: could not write the local state cache (${(err as Error).message})`))
    return { id, files: files.length, bytes: manifest.bytes, durationMs: Date.now() - started }
  } catch (err) {
    throw asAbortError(err, signal, 'restore')
  }
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

/**
 * Reads a chunk into one buffer of exactly `expected` bytes and checks its SHA-256; 'missing' when the store lacks
 * it, 'corrupt' when its size or hash is wrong (a hostile store cannot make it hold more than `expected` bytes).
 */
async function readVerified(store: SnapshotContext['store'], key: string, expected: number, hash: string, into: Buffer, hasher: Hasher, signal: AbortSignal | undefined): Promise<Buffer | 'missing' | 'corrupt'> {
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
  return (await hasher.hash(buf)) === hash ? buf : 'corrupt'
}

async function restoreFile(
  ctx: SnapshotContext,
  chunkSlots: { acquire(): Promise<() => void> },
  buffers: Buffer[],
  hasher: Hasher,
  root: string,
  chunkSize: number,
  file: FileEntry,
  parentCreated: boolean,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
): Promise<CacheRecord> {
  const final = join(root, file.p)
  const tmp = join(root, parentOf(file.p), tmpName())
  let fh
  try {
    fh = await open(tmp, 'wx', 0o600)
  } catch (err) {
    throw writeError(err, file.p)
  }
  let done = false
  try {
    // chunks of one file are fetched and verified a few at a time and written at their offsets (order does not
    // matter for positional writes); the shared slots bound the bytes held in memory across all files
    const handle = fh
    await runPool(file.c.keys(), Math.min(PER_FILE_CHUNKS, file.c.length), async (i) => {
      throwIfAborted(signal, 'restore')
      const release = await chunkSlots.acquire()
      // slot buffers are reused: memory stays at slots x chunk size, with no garbage for the GC to chase
      const slotBuffer = buffers.pop() ?? hasher.alloc(chunkSize)
      try {
        const hash = file.c[i]!
        const expected = Math.min(chunkSize, file.s - i * chunkSize)
        const verified = await readVerified(ctx.store, chunkKey(hash), expected, hash, slotBuffer, hasher, signal)
        if (verified === 'missing') throw new ScfGracefulError('SCFG_ERR_CHUNK_MISSING', `chunk ${hash} of ${file.p} is missing from the ${ctx.store.kind} store`, { details: { path: file.p, chunk: hash } })
        if (verified === 'corrupt') {
          throw new ScfGracefulError('SCFG_ERR_CHUNK_CORRUPT', `chunk ${hash} of ${file.p} does not match its SHA-256; ${file.p} was not written`, { details: { path: file.p, chunk: hash } })
        }
        let written = 0
        try {
          while (written < verified.byteLength) written += (await handle.write(verified, written, verified.byteLength - written, i * chunkSize + written)).bytesWritten
        } catch (err) {
          throw writeError(err, file.p)
        }
        onBytes(verified.byteLength)
      } finally {
        buffers.push(slotBuffer)
        release()
      }
    })
    try {
      await fh.chmod(file.m)
      await fh.utimes(file.mt / 1000, file.mt / 1000)
      await fh.close()
      fh = undefined
      // in a directory this restore created, a directory in the way could only come from a concurrent writer: the
      // rename then fails (EISDIR) instead of merging into it
      if (!parentCreated) await clearForFile(final)
      await rename(tmp, final)
      done = true
      const st = await stat(final)
      return [st.size, st.mtimeMs, st.ino, st.ctimeMs, ...file.c]
    } catch (err) {
      throw writeError(err, file.p)
    }
  } finally {
    await fh?.close().catch(() => {})
    if (!done) await unlink(tmp).catch(() => {})
  }
}
