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

/** The snapshot the files on disk were last known to equal: its id and the digest of its entries. */
export interface CacheHead {
  id: string
  digest: string
}

export interface StateCache {
  version: 1
  key: string
  files: Record<string, CacheRecord>
  /** Set after a snapshot commits or a restore: lets an unchanged tree skip writing a copy of that manifest. */
  head?: CacheHead
}

/**
 * A digest of manifest entries, field by field in a fixed order (independent of how the objects were built or
 * parsed): two entry lists with equal digests describe the same tree.
 */
export function entriesDigest(entries: readonly ManifestEntry[]): string {
  const hash = createHash('sha256')
  for (const e of entries) {
    if (e.type === 'file') hash.update(`f\0${e.path}\0${e.mode}\0${e.mtimeMs}\0${e.size}\0${e.chunks.join(',')}\n`)
    else if (e.type === 'dir') hash.update(`d\0${e.path}\0${e.mode}\0${e.mtimeMs}\n`)
    else hash.update(`l\0${e.path}\0${e.target}\0${e.mtimeMs}\n`)
  }
  return hash.digest('hex')
}

function cachePath(root: string, key: string): string {
  return join(root, STATE_DIR, `state-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.json`)
}

export async function readStateCache(root: string, key: string): Promise<StateCache | undefined> {
  try {
    const parsed = JSON.parse(await readFile(cachePath(root, key), 'utf8')) as StateCache
    if (parsed.version !== 1 || parsed.key !== key || typeof parsed.files !== 'object' || parsed.files === null) return undefined
    if (parsed.head !== undefined && (typeof parsed.head?.id !== 'string' || typeof parsed.head.digest !== 'string')) delete parsed.head
    return parsed
  } catch {
    // missing or damaged: every file is simply read again
    return undefined
  }
}

export async function writeStateCache(root: string, key: string, files: Record<string, CacheRecord>, head?: CacheHead): Promise<void> {
  const path = cachePath(root, key)
  await mkdir(join(root, STATE_DIR), { recursive: true })
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(tmp, JSON.stringify({ version: 1, key, files, head } satisfies StateCache))
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
