// Child: per-invocation cost of graceful() around a trivial async handler vs calling that handler directly.
// Run with --expose-gc. Prints one JSON line.
import { graceful } from 'scf-graceful'

// argv[2]: calls per round, or 'auto' (enough for ~250 ms of graceful() calls per round, 10k..200k)
const rounds = Number(process.argv[3] ?? 9)

const handler = async (event) => event.n
const wrapped = graceful(handler, { logger: false })

// what SCF's Node.js runtime passes (time_limit_in_ms makes graceful arm the timeout-margin abort)
const scfContext = {
  request_id: '0a1b2c3d-0000-4000-8000-000000000000',
  memory_limit_in_mb: 128,
  time_limit_in_ms: 3000,
  function_name: 'overhead-bench',
  function_version: '$LATEST',
  namespace: 'default',
  tencentcloud_region: 'ap-guangzhou',
  tencentcloud_appid: '1250000000',
  tencentcloud_uin: '100000000001',
  environ: 'SCF_NAMESPACE=default;MY_SETTING=1',
  callbackWaitsForEmptyEventLoop: true,
}

let iterations = 2000
let lastCpuNs = 0
async function loop(fn, context) {
  const event = { n: 1 }
  const c0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) await fn(event, context)
  const wall = Number(process.hrtime.bigint() - t0) / iterations
  const c1 = process.cpuUsage(c0)
  // process CPU (all threads, GC helpers included) per call: unlike wall time, not inflated by waiting for a core
  lastCpuNs = ((c1.user + c1.system) * 1000) / iterations
  return wall
}

const variants = {
  bare: (ctx) => loop(handler, ctx),
  graceful: (ctx) => loop(wrapped, ctx),
}
const contexts = { scf: scfContext, empty: {} }
if (process.argv[2] && process.argv[2] !== 'auto') iterations = Number(process.argv[2])
else {
  await variants.graceful(scfContext)
  const perCall = await variants.graceful(scfContext)
  iterations = Math.min(200_000, Math.max(10_000, Math.round(250e6 / perCall / 1000) * 1000))
}
const samples = {}
const cpuSamples = {}
for (const key of ['bare:scf', 'graceful:scf', 'bare:empty', 'graceful:empty']) {
  samples[key] = []
  cpuSamples[key] = []
}

globalThis.gc?.()
const heapBefore = process.memoryUsage().heapUsed
for (let round = 0; round <= rounds; round++) {
  for (const key of Object.keys(samples)) {
    const [variant, ctx] = key.split(':')
    const ns = await variants[variant](contexts[ctx])
    // round 0 warms the JIT and is not counted
    if (round > 0) {
      samples[key].push(ns)
      cpuSamples[key].push(lastCpuNs)
    }
  }
}
// let timers the wrapper armed (and cleared) and pending microtasks drain before measuring what stays
await new Promise((resolve) => setTimeout(resolve, 50))
globalThis.gc?.()
const heapAfter = process.memoryUsage().heapUsed
const invocations = (rounds + 1) * iterations * 2

process.stdout.write(`${JSON.stringify({ iterations, rounds, samples, cpuSamples, retainedBytesPerInvocation: (heapAfter - heapBefore) / invocations })}\n`)
process.exit(0)
