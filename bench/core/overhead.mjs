// Per-invocation overhead of graceful() vs the bare handler, in a fresh process (see children/overhead.mjs).
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { median, table } from './stats.mjs'

export function measureOverhead(scratch, { iterations = 'auto', rounds = 9 } = {}) {
  const out = execFileSync(process.execPath, ['--expose-gc', join(scratch.dir, 'overhead.mjs'), String(iterations), String(rounds)], {
    cwd: scratch.dir,
    encoding: 'utf8',
    timeout: 300_000,
  })
  const data = JSON.parse(out.trim().split('\n').pop())
  const m = Object.fromEntries(Object.entries(data.samples).map(([k, v]) => [k, median(v)]))
  // the fastest round is the least disturbed by other work on the machine: shown next to the median
  const best = Object.fromEntries(Object.entries(data.samples).map(([k, v]) => [k, Math.min(...v)]))
  const cpu = Object.fromEntries(Object.entries(data.cpuSamples).map(([k, v]) => [k, median(v)]))
  const rows = [
    ['SCF runtime context (`time_limit_in_ms` set)', 'scf'],
    ['empty context `{}`', 'empty'],
  ].map(([label, ctx]) => {
    const bare = m[`bare:${ctx}`]
    const ours = m[`graceful:${ctx}`]
    return [label, bare.toFixed(0), ours.toFixed(0), ((ours - bare) / 1000).toFixed(2), ((best[`graceful:${ctx}`] - best[`bare:${ctx}`]) / 1000).toFixed(2), ((cpu[`graceful:${ctx}`] - cpu[`bare:${ctx}`]) / 1000).toFixed(2), `${(ours / bare).toFixed(1)}×`]
  })
  const overheadUs = (m['graceful:scf'] - m['bare:scf']) / 1000
  const overheadCpuUs = (cpu['graceful:scf'] - cpu['bare:scf']) / 1000
  return {
    medians: m,
    iterations: data.iterations,
    rounds: data.rounds,
    retainedBytesPerInvocation: data.retainedBytesPerInvocation,
    goal: { overheadUs, overheadCpuUs, met: overheadUs <= 2 },
    cpu,
    markdown: table(['context', 'bare handler ns/call', 'graceful() ns/call', 'overhead µs/call', 'overhead, fastest rounds µs/call', 'overhead, CPU time µs/call', 'ratio'], rows),
  }
}
