// Where a symlink really leads. A check on the target's text alone is not enough: `sub/up -> ..` is inside root, and
// so is the text `esc -> sub/up/..`, yet the kernel resolves `esc` through `sub/up` to root's parent. This follows a
// target the way path resolution does (path_resolution(7)): each component is looked up, a symlink found on the way
// is replaced by its own target, `..` pops what was actually reached.
import { lstat, readlink } from 'node:fs/promises'
import { join } from 'node:path'

/** What sits at a root-relative path: a directory, a file, a symlink with its target, or nothing. */
export type PathNode = { type: 'dir' } | { type: 'file' } | { type: 'link'; target: string } | undefined

/** The kernel's own bound on symlinks followed in one resolution (MAXSYMLINKS); a longer chain is refused. */
const MAX_HOPS = 40

/**
 * True when the symlink at `linkPath` (relative to root) with `target` resolves inside root, given what `lookup`
 * says sits at each path. Once a component does not exist, the rest is followed as text (a directory created there
 * later cannot make it escape). Absolute targets, a chain longer than the kernel follows, and any step above root
 * are refused.
 */
export async function linkStaysInside(linkPath: string, target: string, lookup: (p: string) => PathNode | Promise<PathNode>): Promise<boolean> {
  if (target.length === 0 || target.startsWith('/') || target.includes('\0')) return false
  const at = linkPath.split('/').slice(0, -1)
  const rest = target.split('/')
  let hops = 0
  let textOnly = false
  while (rest.length > 0) {
    const segment = rest.shift()!
    if (segment === '' || segment === '.') continue
    if (segment === '..') {
      if (at.length === 0) return false
      at.pop()
      continue
    }
    at.push(segment)
    if (textOnly) continue
    const node = await lookup(at.join('/'))
    if (node === undefined || node.type === 'file') textOnly = true
    else if (node.type === 'link') {
      if (++hops > MAX_HOPS || node.target.length === 0 || node.target.startsWith('/')) return false
      // the link's target is resolved from the directory the link sits in
      at.pop()
      rest.unshift(...node.target.split('/'))
    }
  }
  return true
}

/** A lookup over a manifest's (or a walk's) entries: what restore will have created, nothing else. */
export function entriesLookup(entries: readonly ({ path: string; type: 'dir' | 'file' } | { path: string; type: 'link'; target: string })[]): (p: string) => PathNode {
  const byPath = new Map<string, PathNode>()
  for (const e of entries) byPath.set(e.path, e.type === 'link' ? { type: 'link', target: e.target } : { type: e.type })
  return (p) => byPath.get(p)
}

/** A lookup on the disk under root (lstat, readlink): what the kernel will see, entries from elsewhere included. */
export function diskLookup(root: string): (p: string) => Promise<PathNode> {
  return async (p) => {
    const abs = join(root, p)
    try {
      const st = await lstat(abs)
      if (st.isSymbolicLink()) return { type: 'link', target: await readlink(abs) }
      return st.isDirectory() ? { type: 'dir' } : { type: 'file' }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
      throw err
    }
  }
}
