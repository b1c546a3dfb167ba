// The engine's own temp files in root: restore writes each file (and link) to `.scfg-<process>-<pid>-<n>.tmp` in its
// final directory and renames it into place. A restore killed mid-way leaves some behind: they are never user data,
// so a snapshot never records them and the next restore removes them.
import { randomBytes } from 'node:crypto'
import { readdir, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'

// temp names only need to be unique within this process and not collide with another process's (pid + counter);
// a random per-file name costs a synchronous CSPRNG call per file
const processTag = randomBytes(4).toString('hex')
let counter = 0

/** A fresh temp file name (no directory). */
export const tempName = () => `.scfg-${processTag}-${process.pid.toString(36)}-${(counter++).toString(36)}.tmp`

const TEMP_NAME = /^\.scfg-([0-9a-f]{8})-([0-9a-z]{1,12})-[0-9a-z]{1,12}\.tmp$/

/** True for a name this engine uses for its temp files (any process's): never part of a snapshot. */
export const isTempName = (name: string): boolean => TEMP_NAME.test(name)

/** A temp file this old is a leftover even when a process with its pid is alive (the pid was reused). */
const LEFTOVER_AGE_MS = 60 * 60_000

/** True when the process that named it is gone: another process's live restore may still be writing it. */
function ownerIsGone(name: string): boolean {
  const m = TEMP_NAME.exec(name)
  if (!m || m[1] === processTag) return false
  const pid = parseInt(m[2]!, 36)
  if (!(pid > 0)) return false
  // an earlier process that had this process's pid (a container's pid 1 is every instance's)
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/** Removes the leftovers of killed restores directly in `dir` (not below). Resolves with how many. */
export async function removeLeftoverTemps(dir: string): Promise<number> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return 0
  }
  let removed = 0
  for (const name of names) {
    if (!isTempName(name)) continue
    const path = join(dir, name)
    try {
      if (!ownerIsGone(name) && Date.now() - (await stat(path)).mtimeMs < LEFTOVER_AGE_MS) continue
      await unlink(path)
      removed++
    } catch {
      // gone meanwhile, or not ours to remove: it stays, and is still never snapshotted
    }
  }
  return removed
}
