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

async function signalOnce(c) {
  await c.next('ready')
  const t0 = process.hrtime.bigint()
  c.child.kill('SIGTERM')
  const msg = await c.next('abort')
  return { ns: Number(BigInt(msg.t) - t0), reason: msg.reason }
}

export async function measureSignalLatency(scratch, { signals = 300, block = 50, log = console.error } = {}) {
  const variants = [
    { label: 'bare `process.on(SIGTERM)` + AbortController (baseline)', file: 'signal-bare.mjs' },
    { label: 'scf-graceful `graceful()` invocation in flight', file: 'signal-graceful.mjs' },
  ]
  const children = variants.map((v) => ({ ...v, c: startChild(scratch, v.file), samples: [], reasons: new Set() }))
  try {
    let clock = { inside: 0, rounds: 0 }
    for (const v of children) {
      const inside = await clockCheck(v.c, 100)
      clock = { inside: clock.inside + inside, rounds: clock.rounds + 100 }
    }
    // alternate blocks so both variants see the same machine noise
    while (children.some((v) => v.samples.length < signals)) {
      for (const v of children) {
        for (let i = 0; i < block && v.samples.length < signals; i++) {
          const { ns, reason } = await signalOnce(v.c)
          v.samples.push(ns)
          v.reasons.add(reason)
        }
      }
      log(`  signal latency: ${Math.min(...children.map((v) => v.samples.length))}/${signals} signals`)
    }
    const results = children.map((v) => ({
      label: v.label,
      n: v.samples.length,
      p50: median(v.samples),
      p99: percentile(v.samples, 99),
      max: Math.max(...v.samples),
      // where the tail lies: the five slowest signals by their place in the child's sequence (1 = its first)
      slowest: v.samples.map((ns, i) => ({ n: i + 1, ns })).sort((a, b) => b.ns - a.ns).slice(0, 5),
      reasons: [...v.reasons],
    }))
    const base = results[0]
    const rows = results.map((r) => [r.label, String(r.n), us(r.p50), us(r.p99), us(r.max), `${(r.p99 / base.p99).toFixed(2)}×`])
    const ours = results[1]
    return {
      results,
      clock,
      goal: { p99: ours.p99, met: ours.p99 <= 2e6 },
      markdown: table(['child', 'signals', 'p50 µs', 'p99 µs', 'max µs', 'p99 vs baseline'], rows),
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
