// A log line without a newline is capped and split: a 640 MB one crashed the emulator (RangeError in readline) and a
// 300 MB one was stored whole. Here a real child writes 64 MiB without a newline; every stored line is at most 64 KiB,
// nothing is lost, and the event's log says lines were cut.
import { describe, expect, it } from 'vitest'
import { MAX_LOG_LINE_BYTES, createLineSplitter, type LinePiece } from '../../src/harness/bounded-lines.js'
import { fixture, startEmulator, waitForEnd, waitForLog } from './helpers.js'

describe('bounded log lines', () => {
  it('caps and splits a 64 MiB line without a newline, keeps every byte, and records the cut in the event', async () => {
    const { local, scf } = await startEmulator({ functions: [{ name: 'huge', entry: fixture('huge-line.cjs'), timeoutMs: 120_000 }] })
    try {
      const id = (await scf.Invoke({ FunctionName: 'huge', InvocationType: 'Event', ClientContext: '{"mib":64}' })).Result.FunctionRequestId
      expect(await waitForEnd(scf, id, 120_000)).toMatchObject({ Status: 'FINISHED', StatusCode: 200 })
      // the result can come before 64 MiB went through the pipe: the rest of the output still lands in this event
      await waitForLog(local, id, /^after the long line$/, 120_000)
      const lines = local.emulator.getEventLogs(id)
      const out = lines.filter((l) => l.stream === 'stdout')
      for (const l of out) expect(Buffer.byteLength(l.line)).toBeLessThanOrEqual(MAX_LOG_LINE_BYTES)
      // the long line arrives as pieces, then its tail with the two multi-byte characters intact, then the next line
      const long = out.slice(0, -1)
      expect(long.length).toBeGreaterThanOrEqual(1024)
      expect(long.reduce((n, l) => n + Buffer.byteLength(l.line), 0)).toBe(64 * 1024 * 1024 + Buffer.byteLength('é€'))
      expect(long.at(-1)?.line.endsWith('é€')).toBe(true)
      expect(out.at(-1)?.line).toBe('after the long line')
      expect(lines.map((l) => l.line)).toContainEqual(expect.stringMatching(/^\[PLATFORM\] A log line over 64 KiB was cut/))
    } finally {
      await local.close()
    }
  }, 180_000)
})

describe('the line splitter', () => {
  const split = (chunks: Array<string | Buffer>, max = 8) => {
    const got: LinePiece[] = []
    const s = createLineSplitter((p) => got.push(p), max)
    for (const c of chunks) s.push(Buffer.isBuffer(c) ? c : Buffer.from(c))
    s.end()
    return got
  }

  it('splits on \\n, \\r\\n (also across chunks) and a lone \\r, as readline does', () => {
    expect(split(['a\nb\r', '\nc\rd', 'e'], 100).map((p) => p.line)).toEqual(['a', 'b', 'c', 'de'])
  })

  it('cuts a long line into pieces of at most max bytes, never inside a UTF-8 character, all marked cut', () => {
    const got = split(['ab€€€€', '€cd\nok\n'], 8)
    for (const p of got) expect(Buffer.byteLength(p.line)).toBeLessThanOrEqual(8)
    expect(got.map((p) => p.line).join('')).toBe('ab€€€€€cdok')
    expect(got.filter((p) => p.cut).map((p) => p.line).join('')).toBe('ab€€€€€cd')
    expect(got.at(-1)).toEqual({ line: 'ok', cut: false })
  })
})
