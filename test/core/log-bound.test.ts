// The harness keeps an instance's log bounded in bytes, not only in lines: lines can be 64 KiB pieces, so 10,000 of
// them could hold 640 MiB. The oldest lines go first, and logs[0] then says how many were dropped. Real child
// processes (the chatty fixture) writing through real pipes.
import { describe, expect, it } from 'vitest'
import { fixture, useInstances, waitForLog } from './helpers.js'

const MIB = 1024 * 1024
const start = useInstances({ timeoutMs: 60_000 })

/** The result can come before tens of MiB went through the pipes (the harness waits for them 1 s at most). */
async function allRead(fn: Parameters<typeof waitForLog>[0], round: number): Promise<void> {
  await waitForLog(fn, `last stdout line of ${round}`, 30_000)
  await waitForLog(fn, `last stderr line of ${round}`, 30_000)
}

const bytesOf = (lines: ReadonlyArray<{ line: string }>) => lines.reduce((n, l) => n + Buffer.byteLength(l.line), 0)

describe('harness log bound', () => {
  it('long lines: at most 8 MiB kept, the newest ones, and logs[0] says that lines were dropped', async () => {
    const fn = await start(fixture('chatty.cjs'))
    // 400 lines of ~60 KB each (about 23 MiB), alternating stdout / stderr, then a last line on each
    expect(await fn.invoke({ lines: 400, pad: 60_000, round: 1 })).toEqual({ round: 1 })
    await allRead(fn, 1)
    const logs = fn.logs
    const marker = logs[0]!
    expect(marker.dropped).toBeGreaterThan(0)
    expect(marker.line).toMatch(new RegExp(`^\\[scf-graceful harness\\] ${marker.dropped} earlier log lines \\(\\d+ bytes\\) dropped: an instance keeps its last 10000 lines, at most ${8 * MIB} bytes$`))
    const kept = logs.slice(1)
    expect(kept.every((l) => l.dropped === undefined)).toBe(true)
    expect(bytesOf(kept)).toBeLessThanOrEqual(8 * MIB)
    // most of the bound is used: the oldest lines went, not everything
    expect(bytesOf(kept)).toBeGreaterThan(6 * MIB)
    // nothing in between is missing: on each stream (their pipes are read independently, so only the order within a
    // stream is the order written) the kept lines are the last ones written, in order
    const numbered = (prefix: string) => kept.filter((l) => l.line.startsWith(`${prefix} line `)).map((l) => Number(/line (\d+)/.exec(l.line)![1]))
    const out = numbered('out')
    const err = numbered('err')
    expect(out.at(-1)).toBe(398)
    expect(err.at(-1)).toBe(399)
    expect(out).toEqual(Array.from({ length: out.length }, (_, i) => 398 - 2 * (out.length - 1 - i)))
    expect(err).toEqual(Array.from({ length: err.length }, (_, i) => 399 - 2 * (err.length - 1 - i)))
    expect(marker.dropped).toBe(400 - out.length - err.length)
    expect(kept.map((l) => l.line)).toEqual(expect.arrayContaining(['last stderr line of 1', 'last stdout line of 1']))

    // the count goes on across invocations; the marker stays the one first line
    await fn.invoke({ lines: 200, pad: 60_000, round: 2 })
    await allRead(fn, 2)
    expect(fn.logs.filter((l) => l.dropped !== undefined)).toHaveLength(1)
    expect(fn.logs[0]!.dropped).toBeGreaterThan(marker.dropped!)
    expect(bytesOf(fn.logs.slice(1))).toBeLessThanOrEqual(8 * MIB)
    expect(fn.logs.map((l) => l.line)).toEqual(expect.arrayContaining(['last stderr line of 2', 'last stdout line of 2']))
  })

  it('short lines: the line count bound drops the oldest too, and says so', async () => {
    const fn = await start(fixture('chatty.cjs'))
    await fn.invoke({ lines: 14_000, pad: 10, round: 1 })
    await allRead(fn, 1)
    const logs = fn.logs
    expect(logs.length).toBeLessThanOrEqual(12_001)
    expect(logs.length).toBeGreaterThanOrEqual(10_001)
    expect(logs[0]!.dropped).toBe(14_002 - (logs.length - 1))
    // the newest stay: each stream's last kept line is the last it wrote
    expect(logs.filter((l) => l.stream === 'stdout').at(-1)!.line).toBe('last stdout line of 1')
    expect(logs.filter((l) => l.stream === 'stderr').at(-1)!.line).toBe('last stderr line of 1')
  })
})
