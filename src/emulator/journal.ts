/**
 * An append-only file of JSON lines, the emulator's storage primitive (no native module, no dependency).
 *
 * Crash safety comes from the format: a record is one line, written with one `write` call. A process killed in the
 * middle of a write leaves at most a torn last line; `scan` skips it (and any line that does not parse) and cuts the
 * file back to the last whole line, so the next append starts clean. Writes reach the OS at once (they survive a crash
 * of the emulator); `fdatasync` runs about once a second while there are new writes, and at `close()`, so a power cut
 * loses at most the last second (the same promise as SQLite's `synchronous=NORMAL` in WAL mode, which this replaces).
 *
 * Compaction rewrites the live records into `<file>.tmp`, syncs it and renames it over the journal: a crash during
 * compaction leaves either the old file or the new one, never a mix.
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { ScfGracefulError } from '../errors.js'

/** Where a record lies in the file: byte offset and length (without its newline). */
export interface RecordPos {
  pos: number
  len: number
}

export interface ScanResult {
  /** Records that did not parse (torn or damaged lines); they are skipped. */
  skipped: number
  /** Bytes cut off the end (a torn last line without its newline). */
  tornBytes: number
}

const SYNC_EVERY_MS = 1000
const SCAN_CHUNK = 1 << 20

export class Journal {
  readonly path: string
  #fd: number
  #size: number
  #dirty = false
  #syncTimer: NodeJS.Timeout | undefined
  #closed = false

  private constructor(path: string, fd: number, size: number) {
    this.path = path
    this.#fd = fd
    this.#size = size
  }

  /**
   * Opens (creating) the journal and feeds every whole, parseable record to `onRecord` in file order. A torn tail is
   * cut off; damaged lines are skipped and counted.
   */
  static open(path: string, onRecord: (record: unknown, at: RecordPos) => void): { journal: Journal; scan: ScanResult } {
    const fd = openSync(path, 'a+', 0o600)
    try {
      const scan = scanFile(fd, onRecord)
      const good = fstatSync(fd).size - scan.tornBytes
      if (scan.tornBytes > 0) {
        ftruncateSync(fd, good)
        fsyncSync(fd)
      }
      return { journal: new Journal(path, fd, good), scan }
    } catch (err) {
      closeSync(fd)
      throw err
    }
  }

  /**
   * Writes a fresh journal at `path` holding what `fill` appends, atomically (temp file, fsync, rename, directory
   * fsync), and opens it. Positions returned by `append` inside `fill` are valid in the new journal.
   */
  static rewrite(path: string, fill: (append: (record: unknown) => RecordPos) => void): Journal {
    const tmp = `${path}.tmp`
    rmSync(tmp, { force: true })
    const fd = openSync(tmp, 'w', 0o600)
    let size = 0
    try {
      // one buffered writer: compaction writes many small records
      let pending: string[] = []
      let pendingBytes = 0
      const flush = () => {
        if (!pending.length) return
        writeAll(fd, Buffer.from(pending.join('')))
        pending = []
        pendingBytes = 0
      }
      fill((record) => {
        const line = JSON.stringify(record)
        const len = Buffer.byteLength(line)
        const at = { pos: size, len }
        pending.push(line, '\n')
        size += len + 1
        pendingBytes += len + 1
        if (pendingBytes > SCAN_CHUNK) flush()
        return at
      })
      flush()
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
    syncDir(dirname(path))
    return new Journal(path, openSync(path, 'a+', 0o600), size)
  }

  get size(): number {
    return this.#size
  }

  /** Appends records, each as one line, in one write. Returns where each landed. */
  append(records: readonly unknown[]): RecordPos[] {
    if (this.#closed) throw new ScfGracefulError('SCFG_ERR_EMULATOR_CLOSING', `journal ${this.path} is closed`)
    const at: RecordPos[] = []
    const parts: string[] = []
    let size = this.#size
    for (const r of records) {
      const line = JSON.stringify(r)
      const len = Buffer.byteLength(line)
      at.push({ pos: size, len })
      parts.push(line, '\n')
      size += len + 1
    }
    if (!parts.length) return at
    writeAll(this.#fd, Buffer.from(parts.join('')))
    this.#size = size
    this.#scheduleSync()
    return at
  }

  /** Reads one record back. */
  read(at: RecordPos): unknown {
    const buf = Buffer.allocUnsafe(at.len)
    let off = 0
    while (off < at.len) {
      const n = readSync(this.#fd, buf, off, at.len - off, at.pos + off)
      if (n === 0) throw new ScfGracefulError('SCFG_ERR_EMULATOR_DATA_CORRUPT', `journal ${this.path}: record at ${at.pos} is past the end`)
      off += n
    }
    return JSON.parse(buf.toString('utf8'))
  }

  /** Forces what was written to the disk. */
  sync(): void {
    if (this.#closed || !this.#dirty) return
    this.#dirty = false
    fdatasyncSync(this.#fd)
  }

  close(): void {
    if (this.#closed) return
    clearTimeout(this.#syncTimer)
    this.sync()
    this.#closed = true
    closeSync(this.#fd)
  }

  #scheduleSync(): void {
    this.#dirty = true
    if (this.#syncTimer) return
    // unref'd: close() syncs whatever is left, and a write already reached the OS (it survives our crash)
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined
      try {
        this.sync()
      } catch {
        // a failed fdatasync surfaces again at the next one or at close()
        this.#dirty = true
      }
    }, SYNC_EVERY_MS)
    this.#syncTimer.unref()
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // some filesystems refuse fsync on a directory; the rename itself is still atomic
  }
}

/** Reads the file line by line in chunks (a record may span chunks), parsing each whole line. */
function scanFile(fd: number, onRecord: (record: unknown, at: RecordPos) => void): ScanResult {
  const size = fstatSync(fd).size
  const result: ScanResult = { skipped: 0, tornBytes: 0 }
  let carry: Buffer[] = []
  let carryLen = 0
  let lineStart = 0
  let pos = 0
  const chunk = Buffer.allocUnsafe(SCAN_CHUNK)
  const emit = (line: Buffer, at: number) => {
    if (line.length === 0) return
    let record: unknown
    try {
      record = JSON.parse(line.toString('utf8'))
    } catch {
      result.skipped++
      return
    }
    onRecord(record, { pos: at, len: line.length })
  }
  while (pos < size) {
    const n = readSync(fd, chunk, 0, Math.min(SCAN_CHUNK, size - pos), pos)
    if (n === 0) break
    let from = 0
    for (;;) {
      const nl = chunk.indexOf(10, from)
      if (nl < 0 || nl >= n) break
      const piece = chunk.subarray(from, nl)
      const line = carryLen ? Buffer.concat([...carry, piece]) : piece
      emit(line, lineStart)
      carry = []
      carryLen = 0
      lineStart = pos + nl + 1
      from = nl + 1
    }
    if (from < n) {
      carry.push(Buffer.from(chunk.subarray(from, n)))
      carryLen += n - from
    }
    pos += n
  }
  // bytes after the last newline: a record whose write was cut short
  if (carryLen) {
    result.tornBytes = carryLen
    result.skipped++
  }
  return result
}
