// Core benchmarks of issue 2: import cost, SIGTERM -> abort latency, per-invocation overhead of graceful().
// Runs against the built package installed from `npm pack` into bench/.work/core. Prints a markdown report and
// writes it to bench/.work/core/results.md (BENCHMARKS.md is updated by hand from one such run).
// Knobs: BENCH_IMPORT_RUNS (default 30), BENCH_SIGNALS (default 300), BENCH_ITERATIONS (calls per round; default: auto, ~250 ms per round).
import { existsSync, writeFileSync } from 'node:fs'
import { cpus, homedir, loadavg } from 'node:os'
import { join } from 'node:path'
import { measureImportCost } from './import-cost.mjs'
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

log('bench/core: import cost')
const imports = measureImportCost(scratch, { runs: num('BENCH_IMPORT_RUNS', 30), log })
// the same on SCF's Nodejs18.15 (the exact binary from the runtimes cache: `scf-graceful runtimes install Nodejs18.15`)
const cacheDir = process.env.SCF_GRACEFUL_RUNTIMES_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'scf-graceful', 'runtimes')
const node18 = join(cacheDir, 'node-v18.15.0-linux-x64', 'bin', 'node')
let imports18
if (existsSync(node18)) {
  log('bench/core: import cost on Nodejs18.15')
  imports18 = measureImportCost(scratch, { runs: num('BENCH_IMPORT_RUNS', 30), log, node: node18, packages: ['scf-graceful', 'empty-exports'] })
} else {
  log(`bench/core: no Nodejs18.15 binary at ${node18}: skipping its import cost (scf-graceful runtimes install Nodejs18.15)`)
}
log('bench/core: SIGTERM -> abort latency')
const signals = await measureSignalLatency(scratch, { signals: num('BENCH_SIGNALS', 300), log })
log('bench/core: per-invocation overhead')
const overhead = measureOverhead(scratch, { iterations: process.env.BENCH_ITERATIONS ?? 'auto' })

const esm = imports.goal.find((g) => g.mode === 'esm')
const cjs = imports.goal.find((g) => g.mode === 'cjs')
const report = `## core

Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}; total ${((Date.now() - started) / 1000).toFixed(0)} s;
1-minute load average ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after (other work on the machine skews every number below).
Package: \`${scratch.tarball}\` (${(scratch.size / 1024).toFixed(1)} KiB packed, ${(scratch.unpackedSize / 1024).toFixed(1)} KiB unpacked).

### Import cost (fresh process each, exports-map path warmed first, median of ${imports.runs})

${imports.markdown}

${imports18 ? `On SCF's Nodejs18.15 (exact binary, median of ${imports18.runs}):\n\n${imports18.markdown}\n\n` : ''}Goal (within 10% of the cheapest alternative, wall time): \`import\` ${esm.ratio.toFixed(2)}× ${yesNo(esm.met)}; \`require\` ${cjs.ratio.toFixed(2)}× ${yesNo(cjs.met)}. By CPU time: \`import\` ${esm.cpuRatio.toFixed(2)}×, \`require\` ${cjs.cpuRatio.toFixed(2)}×.

### SIGTERM → \`abort\` event latency (parent's hrtime before \`kill()\` to the child's hrtime in the listener)

${signals.markdown}

Clock check: ${signals.clock.inside}/${signals.clock.rounds} child readings fell between the parent's readings before and after the round trip.
Abort reasons seen: ${signals.results[1].reasons.join(', ')}. Goal (p99 ≤ 2 ms): ${(signals.goal.p99 / 1e6).toFixed(3)} ms ${yesNo(signals.goal.met)}.

### Per-invocation overhead (trivial async handler, ${overhead.iterations.toLocaleString('en')} sequential calls per round, median of ${overhead.rounds} rounds)

${overhead.markdown}

Goal (≤ 2 µs with the SCF context): ${overhead.goal.overheadUs.toFixed(2)} µs ${yesNo(overhead.goal.met)} (CPU time: ${overhead.goal.overheadCpuUs.toFixed(2)} µs). Heap retained after all rounds: ${overhead.retainedBytesPerInvocation.toFixed(3)} bytes per invocation.
`
process.stdout.write(report)
writeFileSync(join(scratch.dir, 'results.md'), report)
writeFileSync(join(scratch.dir, 'results.json'), JSON.stringify({ imports: imports.results, imports18: imports18?.results, signals: signals.results, clock: signals.clock, overhead: overhead.medians, overheadCpu: overhead.cpu, retained: overhead.retainedBytesPerInvocation }, null, 2))
