/**
 * One emulator per data dir. Two emulators on one dir would each think the other's RUNNING events are orphans and end
 * them FAILED/500, and their journals would interleave. The lock is a file `emulator.lock` holding the owner's pid
 * (and, on Linux, the process start time, so a recycled pid is not mistaken for the owner). A lock whose owner is gone
 * (killed, crashed) is stale and taken over, as restic does on one host with a signal-0 probe.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmdirSync, rmSync, statSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { ScfGracefulError } from '../errors.js'

export const LOCK_FILE = 'emulator.lock'

interface LockInfo {
  pid: number
  /** /proc/<pid>/stat field 22 (clock ticks after boot), where there is a /proc */
  startTicks?: string
  host?: string
  since?: string
}

export interface DataDirLock {
  readonly path: string
  /** Removes the lock if it is still ours. */
  release(): void
}

// data dirs locked by this process: a second emulator in the same process is refused the same way
const held = new Set<string>()

/** Takes the data dir's lock or throws SCFG_ERR_EMULATOR_DATA_DIR_LOCKED naming the live owner. */
export function lockDataDir(dir: string): DataDirLock {
  const path = join(dir, LOCK_FILE)
  if (held.has(path)) throw lockedError(dir, { pid: process.pid })
  const mine: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() }
  const ticks = startTicks(process.pid)
  if (ticks !== undefined) mine.startTicks = ticks
  for (let attempt = 0; ; attempt++) {
    if (tryCreate(path, mine)) break
    const owner = readLock(path)
    if (owner && isAlive(owner)) throw lockedError(dir, owner)
    if (attempt >= 40) throw lockedError(dir, owner ?? { pid: 0 })
    // unreadable and fresh: its owner is between creating and writing it; give it a moment (bounded by the attempts)
    if (!owner && ageMs(path) < 2000) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
      continue
    }
    takeOverStale(dir, path, owner)
  }
  held.add(path)
  return {
    path,
    release() {
      if (!held.delete(path)) return
      const now = readLock(path)
      if (now?.pid === process.pid) rmSync(path, { force: true })
    },
  }
}

function tryCreate(path: string, info: LockInfo): boolean {
  let fd: number
  try {
    fd = openSync(path, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
  try {
    writeSync(fd, `${JSON.stringify(info)}\n`)
  } finally {
    closeSync(fd)
  }
  return true
}

function readLock(path: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as LockInfo
    return typeof info?.pid === 'number' ? info : undefined
  } catch {
    // missing, or half-written by a process that died while writing it: stale either way
    return undefined
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs
  } catch {
    return Infinity
  }
}

function isAlive(owner: LockInfo): boolean {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false
  if (owner.host && owner.host !== hostname()) return true // another machine's process (shared dir): cannot probe, assume alive
  try {
    process.kill(owner.pid, 0)
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  if (owner.startTicks !== undefined) {
    const now = startTicks(owner.pid)
    if (now !== undefined && now !== owner.startTicks) return false // the pid was recycled
  }
  return true
}

/**
 * Removes a stale lock under a short-lived guard directory, so two emulators starting at once over one stale lock do
 * not remove each other's fresh lock: only the one holding the guard removes, and only if the lock is still stale.
 */
function takeOverStale(dir: string, path: string, seen: LockInfo | undefined): void {
  const guard = join(dir, `${LOCK_FILE}.takeover`)
  try {
    mkdirSync(guard)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    // a takeover in progress, or one whose process died: the latter is old
    try {
      if (Date.now() - statSync(guard).mtimeMs > 10_000) rmdirSync(guard)
    } catch {
      // gone meanwhile
    }
    return
  }
  try {
    const now = readLock(path)
    const same = now === undefined ? seen === undefined : seen !== undefined && now.pid === seen.pid && now.startTicks === seen.startTicks
    if (same && !(now && isAlive(now))) rmSync(path, { force: true })
  } finally {
    rmdirSync(guard)
  }
}

function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return rest[19]
  } catch {
    return undefined
  }
}

function lockedError(dir: string, owner: LockInfo): ScfGracefulError {
  const who = owner.pid === process.pid ? 'this process' : `process ${owner.pid}${owner.since ? ` (since ${owner.since})` : ''}`
  return new ScfGracefulError(
    'SCFG_ERR_EMULATOR_DATA_DIR_LOCKED',
    `The data dir ${dir} is in use by another emulator (${who}). Stop that one, or give this one its own --data-dir.`,
    { details: { dataDir: dir, pid: owner.pid } },
  )
}
