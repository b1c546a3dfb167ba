// Walks root without following symlinks. Yields what a manifest needs plus the local identity (inode, ctime)
// used to recognise unchanged files without reading them.
import { lstatSync, readdirSync, type Stats } from 'node:fs'
import { lstat, readdir, readlink } from 'node:fs/promises'
import { resolve, sep } from 'node:path'
import type { Logger } from '../log.js'
import { type DirEntry, isContainedLinkTarget, type LinkEntry, STATE_DIR } from './manifest.js'
import type { PathPredicate } from './filter.js'
import { diskLookup, entriesLookup, linkStaysInside } from './links.js'
import { isTempName } from './temp-files.js'
import { loopTurns, syncWhileFast, throwIfAborted } from './util.js'

const STAT_BATCH = 32
const SYNC_BATCH_BUDGET_MS = 4
const SLOW_BATCHES_TO_SWITCH = 3
/** A file removed since the readdir gives undefined, not an exception to build and catch. */
const LSTAT_QUIET = { throwIfNoEntry: false } as const

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
  /** Called once if the walk switches to the thread pool (the disk was slow): reading the files should too. */
  onSlowDisk?: () => void
}

/** Entries sorted by path (parents first). Files that vanish mid-walk are simply not there. */
export async function walkTree(options: WalkOptions): Promise<Walked[]> {
  const { root, include, exclude, signal, logger } = options
  const skip = new Set(options.skipDirs.map((d) => resolve(d)))
  const out: Walked[] = []
  // On a local disk (the instance's /tmp) readdir and lstat are a few microseconds each: a thread-pool round trip and
  // a promise per call cost far more, and dominate an unchanged re-snapshot. So the walk calls them synchronously and
  // gives the event loop a turn every 10 ms (loopTurns). A file system where a batch of calls is slow several batches
  // in a row (a network mount) switches this walk to the asynchronous calls for good; one slow batch is only
  // the machine being busy.
  const io = syncWhileFast(SYNC_BATCH_BUDGET_MS, SLOW_BATCHES_TO_SWITCH, options.onSlowDisk)
  const turn = loopTurns()
  const walkDir = async (absDir: string, relDir: string): Promise<void> => {
    throwIfAborted(signal, 'snapshot')
    let names: string[]
    try {
      names = io.sync ? io.timed(() => readdirSync(absDir)) : await readdir(absDir)
    } catch (err) {
      if (isGone(err)) return
      throw err
    }
    // per directory too: an empty one makes no batch of lstat calls below
    if (io.sync) await turn()
    names.sort()
    // the engine's own state and temp files are never user data
    // names come from readdir (no separators, never . or ..) and absDir from realpath: plain concatenation is a join
    const dirPrefix = absDir.endsWith(sep) ? absDir : absDir + sep
    const kept = names.filter((name) => !(!relDir && name === STATE_DIR) && !isTempName(name) && !(skip.size > 0 && skip.has(dirPrefix + name)) && !exclude?.(relDir ? `${relDir}/${name}` : name))
    // each lstat becomes its entry at once (a Stats object with its four Dates is garbage right away, not kept for
    // the whole directory); directories are walked after, in name order
    const found: (Walked | undefined)[] = []
    const take = (name: string, st: Stats | undefined) => {
      if (!st) return found.push(undefined)
      const rel = relDir ? `${relDir}/${name}` : name
      if (st.isDirectory()) return found.push({ type: 'dir', path: rel, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs })
      if (include && !include(rel)) return found.push(undefined)
      if (st.isFile()) return found.push({ type: 'file', path: rel, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, ctimeMs: st.ctimeMs })
      // a link's target is read below; sockets, FIFOs and devices are not state worth keeping
      return found.push(st.isSymbolicLink() ? { type: 'link', path: rel, target: '', mtimeMs: st.mtimeMs } : undefined)
    }
    for (let i = 0; i < kept.length; i += STAT_BATCH) {
      throwIfAborted(signal, 'snapshot')
      const names = kept.slice(i, i + STAT_BATCH)
      if (io.sync) {
        io.timed(() => {
          for (const name of names) take(name, lstatSync(dirPrefix + name, LSTAT_QUIET))
        })
        await turn()
        continue
      }
      const batch = await Promise.allSettled(names.map((name) => lstat(dirPrefix + name)))
      for (const [j, r] of batch.entries()) {
        if (r.status === 'fulfilled') take(names[j]!, r.value)
        else if (isGone(r.reason)) take(names[j]!, undefined)
        else throw r.reason
      }
    }
    for (const [index, name] of kept.entries()) {
      const e = found[index]
      if (!e) continue
      if (e.type === 'dir') {
        out.push(e)
        await walkDir(dirPrefix + name, e.path)
      } else if (e.type === 'file') {
        out.push(e)
      } else {
        let target: string
        try {
          target = await readlink(dirPrefix + name)
        } catch (err) {
          if (isGone(err)) continue
          throw err
        }
        // a snapshot never follows (or records) a link out of root: restore would refuse it anyway
        if (!isContainedLinkTarget(e.path, target)) {
          logger.warn(`snapshot: skipping symlink ${e.path} -> ${target} (leads out of root or is absolute)`)
          continue
        }
        out.push({ ...e, target })
      }
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
    // the manifest lookup answers synchronously: awaiting it is no turn of the event loop
    const turn = loopTurns()
    for (const e of entries) {
      if (e.type !== 'link') continue
      await turn()
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
  // a path is in `needed` only with all its ancestors, so going up stops at the first one already there: each
  // directory is added once, instead of every entry adding all of its ancestors again (entries x depth)
  const needed = new Set<string>()
  for (const e of entries) {
    if (e.type === 'dir' && !include(e.path)) continue
    let p = e.path
    while (!needed.has(p)) {
      needed.add(p)
      const i = p.lastIndexOf('/')
      if (i === -1) break
      p = p.slice(0, i)
    }
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
