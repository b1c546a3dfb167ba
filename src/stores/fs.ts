// 'scf-graceful/stores/fs': a store in a local directory or a mounted network file system (CFS, NFS).
// Writes go to a temp file in <dir>/.scfg-tmp and are renamed into place: a reader sees the old value or the new.
import { randomBytes } from 'node:crypto'
import { close as fsClose, closeSync, createWriteStream, fstatSync, open as fsOpen, openSync, readSync, rename as fsRename, write as fsWrite } from 'node:fs'
import { mkdir, open, opendir, stat, unlink } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { invalidOption, ScfGracefulError } from '../errors.js'
import { assertStoreKey, type SnapshotStore } from '../persistence/store.js'
import { onThreadPool } from '../persistence/util.js'
import { installAbortCompat } from '../compat/abort.js'

export interface FsStoreOptions {
  /** The directory that holds the store (created when missing). Relative paths resolve against the cwd. */
  dir: string
}

const TMP_DIR = '.scfg-tmp'
/** Directories known to exist: chunks/00 … chunks/ff and the snapshot keys' own, so a few hundred in practice. */
const MADE_DIRS_MAX = 4096

// unique across processes (random prefix + pid) and within one (a counter): a CSPRNG call per chunk put is not free
const tmpPrefix = `${randomBytes(6).toString('hex')}-${process.pid.toString(36)}`
let tmpCounter = 0
const tmpName = () => `${tmpPrefix}-${(tmpCounter++).toString(36)}.tmp`

function keyPath(dir: string, key: string): string {
  assertStoreKey(key)
  if (key.split('/').some((segment) => segment.startsWith('.scfg-'))) {
    throw new ScfGracefulError('SCFG_ERR_STORE_KEY_INVALID', `invalid store key ${JSON.stringify(key.slice(0, 80))}: segments starting with ".scfg-" are reserved by the fs store`)
  }
  return join(dir, ...key.split('/'))
}

// A chunk put is open, write, close and rename through the callback API (onThreadPool), not fs/promises. Still
// asynchronous: a slow or hung mount blocks a pool thread, not the event loop.

const renameOnPool = (from: string, to: string) => onThreadPool<void>((cb) => fsRename(from, to, (err) => cb(err, undefined)))

/** One open, as few writes as the kernel allows, one close: writeFile() would cut a 4 MiB chunk into 512 KiB writes. */
async function writeWhole(path: string, bytes: Uint8Array): Promise<void> {
  const fd = await onThreadPool<number>((cb) => fsOpen(path, 'w', cb))
  try {
    let done = 0
    while (done < bytes.byteLength) done += await onThreadPool<number>((cb) => fsWrite(fd, bytes, done, bytes.byteLength - done, null, cb))
  } finally {
    await onThreadPool<void>((cb) => fsClose(fd, (err) => cb(err, undefined)))
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

function storeError(err: unknown, what: string): unknown {
  if (err instanceof ScfGracefulError) return err
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'EACCES' || code === 'EPERM') return new ScfGracefulError('SCFG_ERR_STORE_AUTH', `fs store: permission denied while ${what}`, { cause: err })
  if (code && /^E[A-Z]+$/.test(code) && code !== 'ABORT_ERR') return new ScfGracefulError('SCFG_ERR_STORE_UNAVAILABLE', `fs store: ${code} while ${what}`, { cause: err })
  return err
}

/**
 * A store in a directory. Chunks become files, so a CFS mount gives durable state shared by every instance.
 *
 * @example
 * import { fsStore } from 'scf-graceful/stores/fs'
 * graceful(handler, { persist: { store: fsStore({ dir: '/mnt/cfs/scf-state' }) } })
 */
export function fsStore(options: FsStoreOptions): SnapshotStore {
  // Node 16.13 (SCF's Nodejs16.13): AbortSignal without reason/throwIfAborted, which this code relies on
  installAbortCompat()
  if (typeof options !== 'object' || options === null) throw invalidOption('fsStore options', options, 'an object with a "dir"')
  if (typeof options.dir !== 'string' || options.dir.length === 0 || options.dir.includes('\0')) throw invalidOption('dir', options.dir, 'a directory path')
  const dir = resolve(options.dir)
  const tmpDir = join(dir, TMP_DIR)
  let tmpReady: Promise<unknown> | undefined
  const madeDirs = new Set<string>()

  return {
    kind: 'fs',
    localDir: dir,
    async put(key, body, opts = {}) {
      const target = keyPath(dir, key)
      opts.signal?.throwIfAborted()
      tmpReady ??= mkdir(tmpDir, { recursive: true }).catch((err: unknown) => {
        tmpReady = undefined
        throw err
      })
      const tmp = join(tmpDir, tmpName())
      try {
        await tmpReady
        if (body instanceof Uint8Array) await writeWhole(tmp, body)
        else await pipeline(Readable.from(body as AsyncIterable<Uint8Array>, { objectMode: false }), createWriteStream(tmp), { signal: opts.signal })
        opts.signal?.throwIfAborted()
        // a chunk's directory (chunks/ab/) is made once per process, before its first rename, rather than found
        // missing by a failed rename; a directory removed behind our back is found that way and made again
        const parent = dirname(target)
        if (!madeDirs.has(parent)) {
          await mkdir(parent, { recursive: true })
          if (madeDirs.size < MADE_DIRS_MAX) madeDirs.add(parent)
        }
        try {
          await renameOnPool(tmp, target)
        } catch (err) {
          if (!isMissing(err)) throw err
          madeDirs.delete(parent)
          await mkdir(parent, { recursive: true })
          await renameOnPool(tmp, target)
        }
      } catch (err) {
        await unlink(tmp).catch(() => {})
        throw opts.signal?.aborted ? opts.signal.reason : storeError(err, `writing ${key}`)
      }
    },
    async get(key, opts = {}) {
      const path = keyPath(dir, key)
      opts.signal?.throwIfAborted()
      let fh
      try {
        fh = await open(path, 'r')
      } catch (err) {
        if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') return undefined
        throw storeError(err, `reading ${key}`)
      }
      if ((await fh.stat()).isDirectory()) {
        await fh.close()
        return undefined
      }
      return fh.createReadStream({ highWaterMark: 1024 * 1024, signal: opts.signal } as Parameters<typeof fh.createReadStream>[0])
    },
    async readInto(key, into, opts = {}) {
      const path = keyPath(dir, key)
      opts.signal?.throwIfAborted()
      // synchronous: a chunk is at most a few MiB from a local disk or mount, and four thread-pool round trips per
      // chunk (open, fstat, read, close) cost more than the read itself; the caller hashes it synchronously anyway
      let fd
      try {
        fd = openSync(path, 'r')
      } catch (err) {
        if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') return undefined
        throw storeError(err, `reading ${key}`)
      }
      try {
        const st = fstatSync(fd)
        if (st.isDirectory()) return undefined
        if (st.size > into.byteLength) return st.size
        let got = 0
        while (got < st.size) {
          const n = readSync(fd, into, got, st.size - got, got)
          if (n === 0) break
          got += n
        }
        return got
      } catch (err) {
        throw storeError(err, `reading ${key}`)
      } finally {
        closeSync(fd)
      }
    },
    async has(key, opts = {}) {
      const path = keyPath(dir, key)
      opts.signal?.throwIfAborted()
      try {
        return (await stat(path)).isFile()
      } catch (err) {
        if (isMissing(err)) return false
        throw storeError(err, `checking ${key}`)
      }
    },
    async *list(prefix, opts = {}) {
      opts.signal?.throwIfAborted()
      // start at the deepest directory the prefix names fully; filter the rest by string prefix
      const slash = prefix.lastIndexOf('/')
      const base = slash === -1 ? '' : prefix.slice(0, slash)
      if (base && base.split('/').some((s) => s === '' || s === '.' || s === '..' || s.includes('\0'))) return
      const stack: string[] = [base]
      while (stack.length) {
        opts.signal?.throwIfAborted()
        const rel = stack.pop()!
        let handle
        try {
          handle = await opendir(rel ? join(dir, ...rel.split('/')) : dir)
        } catch (err) {
          if (isMissing(err)) continue
          throw storeError(err, `listing ${prefix}`)
        }
        for await (const entry of handle) {
          if (!rel && entry.name === TMP_DIR) continue
          const key = rel ? `${rel}/${entry.name}` : entry.name
          if (entry.isDirectory()) {
            if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) stack.push(key)
          } else if (entry.isFile() && key.startsWith(prefix)) yield key
        }
      }
    },
    async delete(keys, opts = {}) {
      const list = typeof keys === 'string' ? [keys] : keys
      const paths = list.map((key) => keyPath(dir, key))
      for (const path of paths) {
        opts.signal?.throwIfAborted()
        try {
          await unlink(path)
        } catch (err) {
          if (!isMissing(err)) throw storeError(err, 'deleting')
        }
      }
    },
    // a killed put leaves its temp file in .scfg-tmp; a live one writes to it, so its mtime stays fresh
    async sweepTemp(olderThanMs, opts = {}) {
      const cutoff = Date.now() - olderThanMs
      let removed = 0
      let handle
      try {
        handle = await opendir(tmpDir)
      } catch (err) {
        if (isMissing(err)) return 0
        throw storeError(err, 'listing temp files')
      }
      for await (const entry of handle) {
        // no signal.throwIfAborted(): it is newer than Node 16.13
        if (opts.signal?.aborted) throw (opts.signal as { reason?: unknown }).reason ?? new Error('aborted')
        if (!entry.isFile()) continue
        const path = join(tmpDir, entry.name)
        try {
          if ((await stat(path)).mtimeMs >= cutoff) continue
          await unlink(path)
          removed++
        } catch (err) {
          if (!isMissing(err)) throw storeError(err, 'sweeping temp files')
        }
      }
      return removed
    },
  }
}
