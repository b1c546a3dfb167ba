// Walks root without following symlinks. Yields what a manifest needs plus the local identity (inode, ctime)
// used to recognise unchanged files without reading them.
import { lstatSync, type Stats } from 'node:fs'
import { lstat, readdir, readlink } from 'node:fs/promises'
import { join, resolve, sep } from 'node:path'
import type { Logger } from '../log.js'
import { type DirEntry, isContainedLinkTarget, type LinkEntry, STATE_DIR } from './manifest.js'
import type { PathPredicate } from './filter.js'
import { diskLookup, entriesLookup, linkStaysInside } from './links.js'
import { isTempName } from './temp-files.js'
import { throwIfAborted } from './util.js'

const STAT_BATCH = 32
const SYNC_BATCH_BUDGET_MS = 4

/** A file as the walk found it: what its manifest entry needs but the chunks, plus its local identity. */
export interface WalkedFile { type: 'file'; path: string; mode: number; mtimeMs: number; size: number; ino: number; ctimeMs: number }
/** Directories and links go into the manifest as the walk found them. */
export type Walked = DirEntry | WalkedFile | LinkEntry

export interface WalkOptions {
  root: string
  include?: PathPredicate
  exclude?: PathPredicate
  /** Absolute directories never walked (a local store's own dir). */
  skipDirs: string[]
  signal?: AbortSignal
  logger: Logger
}

/** Entries sorted by path (parents first). Files that vanish mid-walk are simply not there. */
export async function walkTree(options: WalkOptions): Promise<Walked[]> {
  const { root, include, exclude, signal, logger } = options
  const skip = new Set(options.skipDirs.map((d) => resolve(d)))
  const out: Walked[] = []
  const syncStat = { ok: true }
  const walkDir = async (absDir: string, relDir: string): Promise<void> => {
    throwIfAborted(signal, 'snapshot')
    let names: string[]
    try {
      names = await readdir(absDir)
    } catch (err) {
      if (isGone(err)) return
      throw err
    }
    names.sort()
    // the engine's own state and temp files are never user data
    const kept = names.filter((name) => !(!relDir && name === STATE_DIR) && !isTempName(name) && !skip.has(join(absDir, name)) && !exclude?.(relDir ? `${relDir}/${name}` : name))
    const stats: (Stats | undefined)[] = []
    for (let i = 0; i < kept.length; i += STAT_BATCH) {
      throwIfAborted(signal, 'snapshot')
      const names = kept.slice(i, i + STAT_BATCH)
      if (syncStat.ok) {
        // on a local disk an lstat is a few microseconds: a thread-pool round trip per file costs far more (it
        // dominates an unchanged re-snapshot). A batch is small and the event loop gets a turn after each one; a
        // slow batch (a network file system) switches this walk to asynchronous lstat for good.
        const t0 = performance.now()
        for (const name of names) {
          try {
            stats.push(lstatSync(join(absDir, name)))
          } catch (err) {
            if (!isGone(err)) throw err
            stats.push(undefined)
          }
        }
        if (performance.now() - t0 > SYNC_BATCH_BUDGET_MS) syncStat.ok = false
        await new Promise<void>((resolve) => setImmediate(resolve))
        continue
      }
      const batch = await Promise.allSettled(names.map((name) => lstat(join(absDir, name))))
      for (const r of batch) {
        if (r.status === 'fulfilled') stats.push(r.value)
        else if (isGone(r.reason)) stats.push(undefined)
        else throw r.reason
      }
    }
    for (const [index, name] of kept.entries()) {
      const rel = relDir ? `${relDir}/${name}` : name
      const abs = join(absDir, name)
      const st = stats[index]
      if (!st) continue
      if (st.isDirectory()) {
        out.push({ type: 'dir', path: rel, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs })
        await walkDir(abs, rel)
      } else if (st.isFile()) {
        if (include && !include(rel)) continue
        out.push({ type: 'file', path: rel, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, ctimeMs: st.ctimeMs })
      } else if (st.isSymbolicLink()) {
        if (include && !include(rel)) continue
        let target: string
        try {
          target = await readlink(abs)
        } catch (err) {
          if (isGone(err)) continue
          throw err
        }
        // a snapshot never follows (or records) a link out of root: restore would refuse it anyway
        if (!isContainedLinkTarget(rel, target)) {
          logger.warn(`snapshot: skipping symlink ${rel} -> ${target} (leads out of root or is absolute)`)
          continue
        }
        out.push({ type: 'link', path: rel, target, mtimeMs: st.mtimeMs })
      }
      // sockets, FIFOs and devices are not state worth keeping
    }
  }
  await walkDir(root, '')
  return withoutLinksLeadingOut(root, include ? pruneEmptyDirs(out, include) : out, logger)
}

/**
 * Drops symlinks that lead out of root through other symlinks (`esc -> sub/up/..` with `sub/up -> ..`): on this disk
 * (what the link means here) or in the manifest being built (what restore will accept).
 */
async function withoutLinksLeadingOut(root: string, entries: Walked[], logger: Logger): Promise<Walked[]> {
  if (!entries.some((e) => e.type === 'link')) return entries
  const onDisk = diskLookup(root)
  // dropping a link changes how paths through it resolve in the manifest: repeat until nothing more is dropped
  for (;;) {
    const inManifest = entriesLookup(entries)
    const drop = new Set<string>()
    for (const e of entries) {
      if (e.type !== 'link') continue
      if ((await linkStaysInside(e.path, e.target, inManifest)) && (await linkStaysInside(e.path, e.target, onDisk))) continue
      logger.warn(`snapshot: skipping symlink ${e.path} -> ${e.target} (leads out of root through another symlink)`)
      drop.add(e.path)
    }
    if (drop.size === 0) return entries
    entries = entries.filter((e) => !drop.has(e.path))
  }
}

/** With an include filter, keep a directory only if it matched itself or holds something kept. */
function pruneEmptyDirs(entries: Walked[], include: PathPredicate): Walked[] {
  const needed = new Set<string>()
  for (const e of entries) {
    if (e.type === 'dir' && !include(e.path)) continue
    let p = e.path
    for (let i = p.lastIndexOf('/'); i !== -1; i = p.lastIndexOf('/')) {
      p = p.slice(0, i)
      needed.add(p)
    }
    needed.add(e.path)
  }
  return entries.filter((e) => needed.has(e.path))
}

export function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

export function isInside(root: string, abs: string): boolean {
  const r = resolve(root)
  const a = resolve(abs)
  return a === r || a.startsWith(r.endsWith(sep) ? r : r + sep)
}
