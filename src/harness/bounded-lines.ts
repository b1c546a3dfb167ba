/**
 * Splits a child's output stream into lines, never holding more than `maxBytes` of one line. readline keeps a line
 * whole until its newline: a function writing 640 MB without one crashed the emulator (RangeError: Invalid string
 * length) and a 300 MB one was stored whole. Here a longer line is cut into pieces of at most `maxBytes` (at a UTF-8
 * character boundary), each delivered with `cut: true`, so memory stays bounded by the cap whatever the function
 * writes. Line ends are readline's: `\n`, `\r\n` and a lone `\r`.
 */
import type { Readable } from 'node:stream'

/** 64 KiB: long JSON log lines fit whole; anything longer is a dump nobody reads on one line. */
export const MAX_LOG_LINE_BYTES = 64 * 1024

export interface LinePiece {
  line: string
  /** The line was longer than the cap: this is one piece of it (every piece of a cut line, the last included). */
  cut: boolean
}

/** Reads `stream` to its end, calling `onLine` per line (or piece). Resolves when the stream closed. */
export function readBoundedLines(stream: Readable, onLine: (piece: LinePiece) => void, maxBytes = MAX_LOG_LINE_BYTES): Promise<void> {
  const splitter = createLineSplitter(onLine, maxBytes)
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer | string) => splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk))
    const done = () => {
      stream.off('end', done)
      stream.off('close', done)
      splitter.end()
      resolve()
    }
    stream.on('end', done)
    stream.on('close', done)
    // an error ends the stream: what was read so far still counts
    stream.on('error', done)
  })
}

export interface LineSplitter {
  push(chunk: Buffer): void
  end(): void
}

export function createLineSplitter(onLine: (piece: LinePiece) => void, maxBytes = MAX_LOG_LINE_BYTES): LineSplitter {
  let parts: Buffer[] = []
  let size = 0
  let afterCR = false
  let ended = false
  // whether the current line already had a piece cut off: its last piece is then marked too
  let cutting = false

  const take = (): Buffer => {
    const buf = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size)
    parts = []
    size = 0
    return buf
  }
  const emitLine = () => {
    const buf = take()
    onLine({ line: buf.toString('utf8'), cut: cutting })
    cutting = false
  }
  const add = (piece: Buffer) => {
    if (!piece.length) return
    parts.push(piece)
    size += piece.length
    while (size > maxBytes) {
      const buf = take()
      const at = utf8Boundary(buf, maxBytes)
      cutting = true
      onLine({ line: buf.subarray(0, at).toString('utf8'), cut: true })
      const rest = buf.subarray(at)
      if (rest.length) {
        // a copy: the rest must not pin the whole (possibly huge) concatenation
        parts = [Buffer.from(rest)]
        size = rest.length
      }
    }
  }

  return {
    push(chunk) {
      if (ended) return
      let from = 0
      if (afterCR && chunk[0] === 0x0a) from = 1 // the \n of a \r\n split across chunks
      afterCR = false
      for (let i = from; i < chunk.length; i++) {
        const c = chunk[i]
        if (c !== 0x0a && c !== 0x0d) continue
        add(chunk.subarray(from, i))
        emitLine()
        if (c === 0x0d) {
          if (i + 1 < chunk.length) {
            if (chunk[i + 1] === 0x0a) i++
          } else {
            afterCR = true
          }
        }
        from = i + 1
      }
      // copied: a chunk kept across reads must not pin the stream's buffer
      if (from < chunk.length) add(Buffer.from(chunk.subarray(from)))
    },
    end() {
      if (ended) return
      ended = true
      if (size > 0) emitLine()
    },
  }
}

/** The largest cut point <= max that does not split a UTF-8 character. */
function utf8Boundary(buf: Buffer, max: number): number {
  let at = Math.min(max, buf.length)
  // step back over continuation bytes (10xxxxxx) to the start of the character at the cut
  let back = 0
  while (at > 0 && back < 4 && ((buf[at] as number) & 0xc0) === 0x80) {
    at--
    back++
  }
  return at > 0 ? at : Math.min(max, buf.length)
}
