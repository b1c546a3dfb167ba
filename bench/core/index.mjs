// Core benchmarks of issue 2: import cost, SIGTERM -> abort latency, per-invocation overhead of graceful().
// Runs against the built package installed from `npm pack` into bench/.work/core. Prints a markdown report and
// writes it to bench/.work/core/results.md (BENCHMARKS.md is updated by hand from one such run).
// Knobs: BENCH_IMPORT_RUNS (default 30), BENCH_SIGNALS (default 300), BENCH_ITERATIONS (calls per round; default: auto, ~250 ms per round),
// BENCH_NODES (comma-separated node binaries for the import and cold-path rows; default: this node and SCF's Nodejs18.15
// from the runtimes cache when it is there), BENCH_BUDGET_S (time cap of
// each import / cold-path measurement, default 90; at least 10 rounds run), BENCH_ONLY=import (skip the rest) or
// BENCH_ONLY=signals (only the SIGTERM latency), BENCH_SIGNAL_SETTLE_MS (5: the second timing of the signal table).
// BENCH_COMPARE_DIR (another build of the package, e.g. the commit before a change: its rows run interleaved with
// this build's, so a before/after comparison sees the same load).
import { execFileSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { cpus, homedir, loadavg } from 'node:os'
import { join } from 'node:path'
import { measureColdPath, measureImportCost } from './import-cost.mjs'
import { measureOverhead } from './overhead.mjs'
import { prepareScratch } from './scratch.mjs'
import { measureSignalLatency } from './signal-latency.mjs'

const log = (line) => process.stderr.write(`${line}\n`)
const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback)
const started = Date.now()
const loadBefore = loadavg()[0]
const yesNo = (met) => (met ? 'met' : '**not met**')

log('bench/core: preparing the scratch project (npm pack + install)')
const scratch = prepareScratch({ log })
log(`bench/core: scf-graceful ${scratch.version('scf-graceful')} packed (${scratch.tarball}, ${(scratch.size / 1024).toFixed(1)} KiB)`)

// SCF's Nodejs18.15, the exact binary from the runtimes cache (`scf-graceful runtimes install Nodejs18.15`), when present
const cacheDir = process.env.SCF_GRACEFUL_RUNTIMES_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'scf-graceful', 'runtimes')
const node18 = join(cacheDir, 'node-v18.15.0-linux-x64', 'bin', 'node')
if (!process.env.BENCH_NODES && !existsSync(node18)) log(`bench/core: no Nodejs18.15 binary at ${node18}: only this node (scf-graceful runtimes install Nodejs18.15, or BENCH_NODES)`)
const nodes = (process.env.BENCH_NODES ?? [process.execPath, ...(existsSync(node18) ? [node18] : [])].join(',')).split(',').filter(Boolean)
const onlyImport = process.env.BENCH_ONLY === 'import'
const onlySignals = process.env.BENCH_ONLY === 'signals'
const importRuns = []
for (const node of onlySignals ? [] : nodes) {
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  log(`bench/core: import cost and cold path, node ${version}`)
  // each measurement interleaves its packages round by round, so the ratios inside one table saw the same load
  const budgetMs = num('BENCH_BUDGET_S', 90) * 1000
  const imports = measureImportCost(scratch, { runs: num('BENCH_IMPORT_RUNS', 30), budgetMs, node, log })
  const cold = measureColdPath(scratch, { runs: num('BENCH_IMPORT_RUNS', 30), budgetMs, node, log })
  importRuns.push({ node, version, imports, cold })
}
const signals = onlyImport ? undefined : await measureSignalLatency(scratch, { signals: num('BENCH_SIGNALS', 300), settleMs: num('BENCH_SIGNAL_SETTLE_MS', 5), log })
const overhead = onlyImport || onlySignals ? undefined : measureOverhead(scratch, { iterations: process.env.BENCH_ITERATIONS ?? 'auto' })

const importSections = importRuns
  .map(({ version, imports: im, cold }) => {
    const e = im.goal.find((g) => g.mode === 'esm')
    const c = im.goal.find((g) => g.mode === 'cjs')
    return `### Import cost, Node ${version} (fresh process each, exports-map path warmed first, median of ${im.runs})

${im.markdown}

Goal (within 10% of the cheapest alternative, wall time): \`import\` ${e.ratio.toFixed(2)}× ${yesNo(e.met)}; \`require\` ${c.ratio.toFixed(2)}× ${yesNo(c.met)}. By CPU time: \`import\` ${e.cpuRatio.toFixed(2)}×, \`require\` ${c.cpuRatio.toFixed(2)}×.

### Cold path of a CommonJS code deployment, Node ${version} (require + wrap the handler + one invocation; median of ${cold.runs})

${cold.markdown}

scf-graceful vs the cheapest peer: ${cold.ratio.toFixed(2)}× wall, ${cold.cpuRatio.toFixed(2)}× CPU.`
  })
  .join('\n\n')
const report = `## core

Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}; total ${((Date.now() - started) / 1000).toFixed(0)} s;
1-minute load average ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after (other work on the machine skews every number below).
Package: \`${scratch.tarball}\` (${(scratch.size / 1024).toFixed(1)} KiB packed, ${(scratch.unpackedSize / 1024).toFixed(1)} KiB unpacked).${scratch.compare ? ` Rows marked "BENCH_COMPARE_DIR build": the build in ${scratch.compare}, packed and installed the same way.` : ''}

${importSections}

${signals ? `### SIGTERM → \`abort\` event latency (parent's hrtime before \`kill()\` to the child's hrtime in the listener)

${signals.markdown}

Clock check: ${signals.clock.inside}/${signals.clock.rounds} child readings fell between the parent's readings before and after the round trip.
Abort reasons seen by scf-graceful: ${[...new Set(signals.results.filter((r) => !r.baseline).flatMap((r) => r.reasons))].join(', ')}. Goal (p99 ≤ 2 ms): ${signals.goal.map((g) => `signal ${g.settle ? `${g.settle} ms after` : 'at once'}: ${(g.p99 / 1e6).toFixed(3)} ms ${yesNo(g.met)}`).join('; ')}.
The five slowest signals of each row (their place in the row's sequence, 1 = its first: µs): ${signals.results.map((r) => `${r.baseline ? 'baseline' : 'scf-graceful'}, ${r.settle ? `${r.settle} ms after` : 'at once'}: ${r.slowest.map((x) => `#${x.n} ${(x.ns / 1e3).toFixed(0)}`).join(', ')}`).join('; ')}.
` : ''}

${overhead ? `### Per-invocation overhead (trivial async handler, ${overhead.iterations.toLocaleString('en')} sequential calls per round, median of ${overhead.rounds} rounds)

${overhead.markdown}

Goal (≤ 2 µs with the SCF context): ${overhead.goal.overheadUs.toFixed(2)} µs ${yesNo(overhead.goal.met)} (CPU time: ${overhead.goal.overheadCpuUs.toFixed(2)} µs). Heap retained after all rounds: ${overhead.retainedBytesPerInvocation.toFixed(3)} bytes per invocation.` : ''}
`
process.stdout.write(report)
writeFileSync(join(scratch.dir, 'results.md'), report)
writeFileSync(join(scratch.dir, 'results.json'), JSON.stringify({ imports: importRuns.map((r) => ({ node: r.version, results: r.imports.results, cold: r.cold })), signals: signals?.results, clock: signals?.clock, overhead: overhead?.medians, overheadCpu: overhead?.cpu, retained: overhead?.retainedBytesPerInvocation }, null, 2))
