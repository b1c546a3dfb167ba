// SIGTERM -> 'abort' event latency, measured across two processes on one clock (see BENCHMARKS.md, core).
import { fork } from 'node:child_process'
import { join } from 'node:path'
import { median, percentile, table, us } from './stats.mjs'

function startChild(scratch, file) {
  const child = fork(join(scratch.dir, file), [], { execArgv: (process.env.BENCH_CHILD_ARGS || '').split(' ').filter(Boolean), cwd: scratch.dir, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const queue = []
  let waiting
  let exited = null
  child.on('message', (msg) => {
    queue.push(msg)
    waiting?.()
  })
  child.on('exit', (code, signal) => {
    exited = { code, signal }
    waiting?.()
  })
  // every wait is bounded: a child that died or stopped answering fails the benchmark with a clear message
  const next = async (type, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = queue.findIndex((m) => m.type === type)
      if (i >= 0) return queue.splice(i, 1)[0]
      if (exited) throw new Error(`${file} exited (code ${exited.code}, signal ${exited.signal}) while the bench waited for "${type}"`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${file} sent no "${type}" within ${timeoutMs} ms`)
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left)
        waiting = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      waiting = undefined
    }
  }
  return { child, next, file }
}

/** Parent and child read process.hrtime.bigint(); check the child's readings fall between the parent's. */
async function clockCheck(c, rounds) {
  let inside = 0
  for (let i = 0; i < rounds; i++) {
    const a = process.hrtime.bigint()
    c.child.send({ type: 'ping' })
    const { t } = await c.next('pong')
    const b = process.hrtime.bigint()
    if (BigInt(t) >= a && BigInt(t) <= b) inside++
  }
  return inside
}

async function signalOnce(c, settleMs) {
  await c.next('ready')
  // settleMs: the signal comes that long after the invocation began waiting, as a real SIGTERM comes at any time
  // rather than within a millisecond of the invocation's start (see the note under the table)
  if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs))
  const t0 = process.hrtime.bigint()
  c.child.kill('SIGTERM')
  const msg = await c.next('abort')
  return { ns: Number(BigInt(msg.t) - t0), reason: msg.reason }
}

export async function measureSignalLatency(scratch, { signals = 300, block = 50, settleMs = 5, log = console.error } = {}) {
  const variants = [
    { label: 'bare `process.on(SIGTERM)` + AbortController (baseline)', file: 'signal-bare.mjs' },
    { label: 'scf-graceful `graceful()` invocation in flight', file: 'signal-graceful.mjs' },
  ]
  const children = variants.map((v) => ({ ...v, c: startChild(scratch, v.file) }))
  try {
    let clock = { inside: 0, rounds: 0 }
    for (const v of children) {
      const inside = await clockCheck(v.c, 100)
      clock = { inside: clock.inside + inside, rounds: clock.rounds + 100 }
    }
    // two timings: the signal at once after the child said it is waiting, and `settleMs` later. Alternate blocks,
    // children and timings, so every row sees the same machine noise
    const timings = [0, settleMs]
    const runs = timings.flatMap((settle) => children.map((v) => ({ v, settle, samples: [], reasons: new Set() })))
    while (runs.some((r) => r.samples.length < signals)) {
      for (const r of runs) {
        for (let i = 0; i < block && r.samples.length < signals; i++) {
          const { ns, reason } = await signalOnce(r.v.c, r.settle)
          r.samples.push(ns)
          r.reasons.add(reason)
        }
      }
      log(`  signal latency: ${Math.min(...runs.map((r) => r.samples.length))}/${signals} signals per row`)
    }
    const results = runs.map((r) => ({
      label: r.v.label,
      baseline: r.v === children[0],
      settle: r.settle,
      n: r.samples.length,
      p50: median(r.samples),
      p99: percentile(r.samples, 99),
      max: Math.max(...r.samples),
      // where the tail lies: the five slowest signals of the row by their place in its sequence (1 = its first)
      slowest: r.samples.map((ns, i) => ({ n: i + 1, ns })).sort((a, b) => b.ns - a.ns).slice(0, 5),
      reasons: [...r.reasons],
    }))
    const rows = results.map((r) => {
      const base = results.find((b) => b.baseline && b.settle === r.settle)
      return [r.label, r.settle ? `${r.settle} ms after` : 'at once', String(r.n), us(r.p50), us(r.p99), us(r.max), `${(r.p99 / base.p99).toFixed(2)}×`]
    })
    const ours = results.filter((r) => !r.baseline)
    return {
      results,
      clock,
      goal: ours.map((r) => ({ settle: r.settle, p99: r.p99, met: r.p99 <= 2e6 })),
      markdown: table(['child', 'signal sent', 'signals', 'p50 µs', 'p99 µs', 'max µs', 'p99 vs baseline'], rows),
    }
  } finally {
    for (const v of children) {
      if (v.c.child.exitCode === null && v.c.child.signalCode === null) {
        v.c.child.send({ type: 'done' }, () => {})
        setTimeout(() => v.c.child.kill('SIGKILL'), 2000).unref()
      }
    }
  }
}
