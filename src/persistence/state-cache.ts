// The local state cache: for each file of the last snapshot or restore, its stat identity and chunk hashes.
// A file whose size, mtime, inode and ctime still match is not re-read. The cache lives in root/.scf-graceful
// (never snapshotted), so it survives a process restart exactly as long as the files it describes do.
// It is only a hint: an entry is trusted only if all its chunks are referenced by the key's current manifest.
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { STATE_DIR, type ManifestEntry } from './manifest.js'

/** [size, mtimeMs, ino, ctimeMs, ...chunkHashes] */
export type CacheRecord = [number, number, number, number, ...string[]]

/**
 * The snapshot the files on disk were last known to equal: its id and the identity digest of the tree as it stood
 * right after that snapshot was committed or restored. Kept in a small file of its own, so an unchanged re-snapshot
 * reads neither the manifest nor the (large) per-file records.
 */
export interface CacheHead {
  id: string
  digest: string
}

export interface StateCache {
  version: 1
  key: string
  files: Record<string, CacheRecord>
}

/**
 * A digest of a tree's identity, entry by entry in walk order: for files their path, mode, mtime, size, inode and
 * ctime (what the state cache trusts to say "not touched"), for directories and links what their manifest entries
 * hold. Equal digests: the same files as far as the state cache can tell, so the same snapshot.
 */
export function identityDigester() {
  const hash = createHash('sha256')
  const file = (path: string, mode: number, mtimeMs: number, size: number, ino: number, ctimeMs: number): void => {
    hash.update(`f\0${path}\0${mode}\0${mtimeMs}\0${size}\0${ino}\0${ctimeMs}\n`)
  }
  return {
    file,
    /** A file as its state-cache record has it (the stat after it was read or written). */
    record: (path: string, mode: number, [size, mtimeMs, ino, ctimeMs]: CacheRecord): void => file(path, mode, mtimeMs, size, ino, ctimeMs),
    other(e: Exclude<ManifestEntry, { type: 'file' }>): void {
      if (e.type === 'dir') hash.update(`d\0${e.path}\0${e.mode}\0${e.mtimeMs}\n`)
      else hash.update(`l\0${e.path}\0${e.target}\0${e.mtimeMs}\n`)
    },
    end: (): string => hash.digest('hex'),
  }
}

const keyId = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 16)
const cachePath = (root: string, key: string) => join(root, STATE_DIR, `state-${keyId(key)}.json`)
const headPath = (root: string, key: string) => join(root, STATE_DIR, `head-${keyId(key)}.json`)

export async function readStateCache(root: string, key: string): Promise<StateCache | undefined> {
  try {
    const parsed = JSON.parse(await readFile(cachePath(root, key), 'utf8')) as StateCache
    if (parsed.version !== 1 || parsed.key !== key || typeof parsed.files !== 'object' || parsed.files === null) return undefined
    return parsed
  } catch {
    // missing or damaged: every file is simply read again
    return undefined
  }
}

export async function readHead(root: string, key: string): Promise<CacheHead | undefined> {
  try {
    const parsed = JSON.parse(await readFile(headPath(root, key), 'utf8')) as { version?: unknown; key?: unknown; id?: unknown; digest?: unknown }
    if (parsed.version !== 1 || parsed.key !== key || typeof parsed.id !== 'string' || typeof parsed.digest !== 'string') return undefined
    return { id: parsed.id, digest: parsed.digest }
  } catch {
    // missing or damaged: the next snapshot takes the full path once
    return undefined
  }
}

/** The per-file records first, then the head: each file is replaced atomically, and a stale head can only miss. */
export async function writeStateCache(root: string, key: string, files: Record<string, CacheRecord>, head: CacheHead): Promise<void> {
  await mkdir(join(root, STATE_DIR), { recursive: true })
  await replaceFile(cachePath(root, key), JSON.stringify({ version: 1, key, files } satisfies StateCache))
  await replaceFile(headPath(root, key), JSON.stringify({ version: 1, key, ...head }))
}

async function replaceFile(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(tmp, text)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
