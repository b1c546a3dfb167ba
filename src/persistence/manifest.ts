// The manifest: a complete description of one snapshot. Parsing is where hostile input is stopped: every path,
// size and hash is checked before restore writes a single byte.
// In memory entries have readable names; the stored JSON uses one- and two-letter keys (a manifest of a large tree
// is mostly keys), converted only here, in serializeManifest and parseManifest.
import { ScfGracefulError } from '../errors.js'
import { FORMAT } from './layout.js'

export interface DirEntry { type: 'dir'; path: string; mode: number; mtimeMs: number }
export interface FileEntry { type: 'file'; path: string; mode: number; mtimeMs: number; size: number; chunks: string[] }
export interface LinkEntry { type: 'link'; path: string; target: string; mtimeMs: number }
export type ManifestEntry = DirEntry | FileEntry | LinkEntry

/** The stored form of an entry: `t` d/f/l, `p` path, `m` mode, `mt` mtime (ms), `s` size, `c` chunks, `tg` link target. */
type StoredEntry = { p: string; t: 'd'; m: number; mt: number } | { p: string; t: 'f'; m: number; mt: number; s: number; c: string[] } | { p: string; t: 'l'; tg: string; mt: number }

export interface Manifest {
  format: typeof FORMAT
  id: string
  key: string
  createdAt: string
  chunkSize: number
  files: number
  bytes: number
  /** Sorted by path; a parent directory always comes before what it contains. */
  entries: ManifestEntry[]
}

/** The local state directory inside root: never snapshotted, never restored. */
export const STATE_DIR = '.scf-graceful'

const MAX_ENTRIES = 5_000_000
const MAX_FILE_SIZE = 2 ** 44 // 16 TiB: anything larger is absurd for /tmp
const MAX_PATH_BYTES = 4096
const MAX_SEGMENT_BYTES = 255
const HASH = /^[0-9a-f]{64}$/

function invalid(message: string, details?: Record<string, unknown>): ScfGracefulError {
  return new ScfGracefulError('SCFG_ERR_MANIFEST_INVALID', `invalid manifest: ${message}`, details ? { details } : {})
}

/** Checks one relative path: no absolute, no '..' or '.', no empty segment, no NUL or backslash, sane lengths. */
export function checkRelativePath(p: unknown): string {
  if (typeof p !== 'string' || p.length === 0) throw invalid('a path is empty or not a string')
  // run for every entry of every manifest a restore, a snapshot's plan or a prune reads: nothing is built for the
  // message unless it is thrown, and UTF-8 lengths are counted only where they could be over (a UTF-16 code unit is
  // at most 3 bytes of UTF-8)
  const shown = () => JSON.stringify(p.slice(0, 120))
  if (p.includes('\0')) throw invalid(`path ${shown()} contains NUL`)
  if (p.charCodeAt(0) === 47 /* / */ || (p.charCodeAt(1) === 58 /* : */ && /^[A-Za-z]:/.test(p))) throw invalid(`path ${shown()} is absolute`)
  if (p.includes('\\')) throw invalid(`path ${shown()} contains a backslash`)
  if (p.length * 3 > MAX_PATH_BYTES && Buffer.byteLength(p) > MAX_PATH_BYTES) throw invalid(`path ${shown()} is too long`)
  // segment by segment without splitting: a deep tree's manifest has entries x depth segments
  for (let start = 0; start <= p.length; ) {
    let end = p.indexOf('/', start)
    if (end === -1) end = p.length
    const length = end - start
    if (length === 0 || (length <= 2 && p.charCodeAt(start) === 46 /* . */ && (length === 1 || p.charCodeAt(start + 1) === 46))) {
      throw invalid(`path ${shown()} has a "${p.slice(start, end)}" segment`)
    }
    if (length * 3 > MAX_SEGMENT_BYTES && Buffer.byteLength(p.slice(start, end)) > MAX_SEGMENT_BYTES) throw invalid(`path ${shown()} has a segment over 255 bytes`)
    start = end + 1
  }
  if (p.startsWith(STATE_DIR) && (p.length === STATE_DIR.length || p.charCodeAt(STATE_DIR.length) === 47)) throw invalid(`path ${shown()} is inside the reserved ${STATE_DIR} directory`)
  return p
}

/** A symlink target must be relative and, resolved from the link's directory, stay inside root. */
export function isContainedLinkTarget(linkPath: string, target: string): boolean {
  if (target.length === 0 || target.includes('\0') || target.startsWith('/') || target.includes('\\')) return false
  const depthStack = linkPath.split('/').slice(0, -1)
  for (const segment of target.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') {
      if (depthStack.length === 0) return false
      depthStack.pop()
    } else depthStack.push(segment)
  }
  return true
}

const isInt = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v < 1e15

/** The manifest's stored bytes (JSON with the short keys). */
export function serializeManifest(manifest: Manifest): Buffer {
  const entries: StoredEntry[] = manifest.entries.map((e) => {
    if (e.type === 'file') return { p: e.path, t: 'f', m: e.mode, mt: e.mtimeMs, s: e.size, c: e.chunks }
    if (e.type === 'dir') return { p: e.path, t: 'd', m: e.mode, mt: e.mtimeMs }
    return { p: e.path, t: 'l', tg: e.target, mt: e.mtimeMs }
  })
  return Buffer.from(JSON.stringify({ ...manifest, entries }))
}

/** Parses and fully validates manifest bytes; throws SCFG_ERR_MANIFEST_INVALID on anything off. */
export function parseManifest(bytes: Uint8Array, expected: { key?: string; id?: string } = {}): Manifest {
  let raw: unknown
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch (cause) {
    throw new ScfGracefulError('SCFG_ERR_MANIFEST_INVALID', 'invalid manifest: not JSON', { cause })
  }
  if (typeof raw !== 'object' || raw === null) throw invalid('not an object')
  const m = raw as Record<string, unknown>
  if (m.format !== FORMAT) throw invalid(`unknown format ${JSON.stringify(m.format)}`)
  if (typeof m.id !== 'string' || (expected.id !== undefined && m.id !== expected.id)) throw invalid('id does not match its ref')
  if (typeof m.key !== 'string' || (expected.key !== undefined && m.key !== expected.key)) throw invalid('key does not match')
  if (!isInt(m.chunkSize, 16 * 1024 * 1024) || m.chunkSize < 4096) throw invalid('bad chunkSize')
  if (!Array.isArray(m.entries) || m.entries.length > MAX_ENTRIES) throw invalid('entries missing or too many')
  const chunkSize = m.chunkSize
  const types = new Map<string, string>()
  const entries: ManifestEntry[] = []
  let bytesTotal = 0
  let files = 0
  for (const e of m.entries as unknown[]) {
    if (typeof e !== 'object' || e === null) throw invalid('an entry is not an object')
    const entry = e as Record<string, unknown>
    const p = checkRelativePath(entry.p)
    if (types.has(p)) throw invalid(`path ${JSON.stringify(p)} appears twice`)
    const slash = p.lastIndexOf('/')
    // a parent must be a directory of this manifest: a symlink can never be walked through
    if (slash !== -1 && types.get(p.slice(0, slash)) !== 'd') throw invalid(`parent of ${JSON.stringify(p)} is not a directory listed before it`)
    if (!isTime(entry.mt)) throw invalid(`bad mtime for ${JSON.stringify(p)}`)
    const mtimeMs = entry.mt
    if (entry.t === 'd') {
      if (!isInt(entry.m, 0o7777)) throw invalid(`bad mode for ${JSON.stringify(p)}`)
      entries.push({ type: 'dir', path: p, mode: entry.m, mtimeMs })
    } else if (entry.t === 'f') {
      if (!isInt(entry.m, 0o7777)) throw invalid(`bad mode for ${JSON.stringify(p)}`)
      if (!isInt(entry.s, MAX_FILE_SIZE)) throw invalid(`absurd size for ${JSON.stringify(p)}`)
      if (!Array.isArray(entry.c) || entry.c.length !== Math.ceil(entry.s / chunkSize)) throw invalid(`chunk list of ${JSON.stringify(p)} does not match its size`)
      for (const h of entry.c) if (typeof h !== 'string' || !HASH.test(h)) throw invalid(`bad chunk hash in ${JSON.stringify(p)}`)
      bytesTotal += entry.s
      files++
      entries.push({ type: 'file', path: p, mode: entry.m, mtimeMs, size: entry.s, chunks: entry.c as string[] })
    } else if (entry.t === 'l') {
      if (typeof entry.tg !== 'string' || !isContainedLinkTarget(p, entry.tg)) throw invalid(`symlink ${JSON.stringify(p)} leads out of root`)
      entries.push({ type: 'link', path: p, target: entry.tg, mtimeMs })
    } else throw invalid(`unknown entry type ${JSON.stringify(entry.t)}`)
    types.set(p, entry.t as string)
  }
  if (!Number.isSafeInteger(bytesTotal)) throw invalid('absurd total size')
  return { format: FORMAT, id: m.id, key: m.key, createdAt: String(m.createdAt ?? ''), chunkSize, files, bytes: bytesTotal, entries }
}

/** Every chunk hash a manifest references. */
export function manifestChunks(manifest: Manifest, into = new Set<string>()): Set<string> {
  for (const e of manifest.entries) if (e.type === 'file') for (const h of e.chunks) into.add(h)
  return into
}
