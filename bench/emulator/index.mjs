// Emulator benchmark: the built emulator (dist/emulator/server.js, what `scf-graceful local` runs) over HTTP with the
// official SDK client, both in this process:
//   1. ListAsyncEvents p50/p99 with 100,000 stored events of one function (+20,000 of another), filters and paging
//   2. Invoke(Event) -> the handler running, warm instance vs cold instance
//   3. TerminateAsyncEvent(GraceShutdown) -> ABORTED (and force -> ABORTED)
// Prints markdown tables. Method and results: BENCHMARKS.md, section `emulator`.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startLocalServer } from '../../dist/emulator/server.js'
import scfSdk from 'tencentcloud-sdk-nodejs-scf'

const here = (p) => fileURLToPath(new URL(p, import.meta.url))
const SECRET_ID = 'AKIDbenchmark000001'
const SECRET_KEY = 'benchmark-secret-key-0001'
const EVENTS = 100_000
const OTHER = 20_000
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200)


const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))]
}
const ms = (x) => x.toFixed(2)

async function startEmulator(dataDir) {
  const local = await startLocalServer({
    port: 0, rateLimit: false, secretId: SECRET_ID, secretKey: SECRET_KEY, dataDir,
    functions: [
      { name: 'work', entry: here('./fixtures/work.cjs'), timeoutMs: 60_000 },
      { name: 'loop', entry: here('./fixtures/loop.cjs'), timeoutMs: 60_000 },
      { name: 'listed', entry: here('./fixtures/work.cjs') },
      { name: 'other', entry: here('./fixtures/work.cjs') },
    ],
  })
  const waiters = []
  const seen = []
  const onLine = (line) => {
    const at = performance.now()
    seen.push({ line, at })
    if (seen.length > 5000) seen.splice(0, 2500)
    for (const w of [...waiters]) if (w.test(line)) {
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve(at)
    }
  }
  // the same lines `scf-graceful local` prints: '<id> | <log line>' and '<id> <STATUS>'
  local.emulator.on('log', (l) => onLine(`${l.requestId} | ${l.line}`))
  local.emulator.on('event-change', (r) => onLine(`${r.requestId} ${r.status}`))
  const waitLine = (match, timeoutMs = 30_000) => new Promise((resolve, reject) => {
    const test = (l) => (typeof match === 'string' ? l.includes(match) : match.test(l))
    const earlier = seen.find((x) => test(x.line))
    if (earlier) return resolve(earlier.at)
    const timer = setTimeout(() => reject(new Error(`timed out waiting for a line matching ${match}; last lines:\n${seen.slice(-8).map((x) => x.line).join("\n")}`)), timeoutMs)
    waiters.push({ test, resolve: (t) => (clearTimeout(timer), resolve(t)) })
  })
  return { local, port: local.port, waitLine, stop: () => local.close() }
}

const client = (port) => new scfSdk.scf.v20180416.Client({
  credential: { secretId: SECRET_ID, secretKey: SECRET_KEY },
  region: 'ap-guangzhou',
  profile: { httpProfile: { endpoint: `127.0.0.1:${port}`, protocol: 'http://' } },
})

function seed(db) {
  const now = Date.now() * 1000
  const span = 2.5 * 24 * 3600 * 1e6
  const statuses = [['FINISHED', 200], ['FINISHED', 200], ['FINISHED', 200], ['FAILED', 430], ['ABORTED', 499], ['ABORTED', 200]]
  let x = 12345
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648)
  const rows = []
  for (let i = 0; i < EVENTS + OTHER; i++) {
    const start = Math.floor(now - span + rnd() * span)
    const [status, code] = i % 500 === 0 ? ['RUNNING', 0] : statuses[Math.floor(rnd() * statuses.length)]
    rows.push({ requestId: `seed-${i}`, functionName: i < EVENTS ? 'listed' : 'other', namespace: 'default', qualifier: '$LATEST', invokeType: 'OTHERS', status, statusCode: code, startUs: start, endUs: status === 'RUNNING' ? null : start + Math.floor(rnd() * 600e6), retMsg: null, errMsg: null })
  }
  db.insertMany(rows)
}

const fmt = (us) => {
  const d = new Date(us / 1000 + 8 * 3600e3).toISOString()
  return `${d.slice(0, 10)} ${d.slice(11, 19)}`
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'scfg-bench-emulator-'))
  try {
    const cli = await startEmulator(dataDir)
    const t0 = performance.now()
    seed(cli.local.emulator.db)
    const seedMs = performance.now() - t0
    const scf = client(cli.port)

    // 1. ListAsyncEvents
    const nowUs = Date.now() * 1000
    const queries = {
      'default (DESC StartTime, Limit 20)': () => ({ FunctionName: 'listed' }),
      'Status [FAILED, ABORTED], Limit 100': () => ({ FunctionName: 'listed', Status: ['FAILED', 'ABORTED'], Limit: 100 }),
      'StartTimeInterval 6 h, ASC, page 3': () => {
        const start = nowUs - Math.floor(Math.random() * 48) * 3600e6 - 6 * 3600e6
        return { FunctionName: 'listed', Order: 'ASC', Offset: 40, StartTimeInterval: { Start: fmt(start), End: fmt(start + 6 * 3600e6) } }
      },
      'Orderby EndTime + Status, Offset 1,000': () => ({ FunctionName: 'listed', Orderby: 'EndTime', Status: ['FINISHED'], Offset: 1000 }),
      'deep page: Offset 50,000, Limit 100': () => ({ FunctionName: 'listed', Offset: 50_000, Limit: 100 }),
      'InvokeRequestId': () => ({ FunctionName: 'listed', InvokeRequestId: `seed-${Math.floor(Math.random() * EVENTS)}` }),
    }
    for (let i = 0; i < 30; i++) await scf.ListAsyncEvents({ FunctionName: 'listed' }) // warm up
    const listRows = []
    const all = []
    for (const [name, make] of Object.entries(queries)) {
      const times = []
      let total
      for (let i = 0; i < ROUNDS; i++) {
        const t = performance.now()
        const r = await scf.ListAsyncEvents(make())
        times.push(performance.now() - t)
        total = r.TotalCount
      }
      all.push(...times)
      console.error(`  ListAsyncEvents ${name}: p50 ${ms(pct(times, 0.5))} ms p99 ${ms(pct(times, 0.99))} ms`)
      listRows.push(`| ${name} | ${total} | ${ms(pct(times, 0.5))} | ${ms(pct(times, 0.99))} |`)
    }
    listRows.push(`| **all of the above** | | **${ms(pct(all, 0.5))}** | **${ms(pct(all, 0.99))}** |`)

    // 2. Invoke -> handler running, warm vs cold
    const invokeRun = async (event) => {
      const t = performance.now()
      const r = await scf.Invoke({ FunctionName: 'work', InvocationType: 'Event', ClientContext: JSON.stringify(event) })
      const apiDone = performance.now()
      const id = r.Result.FunctionRequestId
      const started = await cli.waitLine(`${id} | handler started`)
      await cli.waitLine(new RegExp(`${id} (FINISHED|FAILED)`))
      return { api: apiDone - t, start: started - t }
    }
    const N = Math.max(20, Math.floor(ROUNDS / 5))
    await invokeRun({})
    const warm = []
    for (let i = 0; i < N; i++) warm.push(await invokeRun({}))
    const cold = []
    // each `fail` invocation recycles its instance (any execution error does), so the next invocation is cold
    await invokeRun({ fail: true })
    for (let i = 0; i < N; i++) cold.push(await invokeRun({ fail: true }))
    const invokeRows = [
      `| warm instance | ${N} | ${ms(pct(warm.map((w) => w.api), 0.5))} | ${ms(pct(warm.map((w) => w.start), 0.5))} | ${ms(pct(warm.map((w) => w.start), 0.99))} |`,
      `| cold instance (new process) | ${N} | ${ms(pct(cold.map((w) => w.api), 0.5))} | ${ms(pct(cold.map((w) => w.start), 0.5))} | ${ms(pct(cold.map((w) => w.start), 0.99))} |`,
    ]

    // 3. TerminateAsyncEvent -> ABORTED
    const term = async (grace) => {
      const id = (await scf.Invoke({ FunctionName: 'loop', InvocationType: 'Event', ClientContext: '{}' })).Result.FunctionRequestId
      await cli.waitLine(`${id} | handler started`)
      const t = performance.now()
      const aborted = cli.waitLine(new RegExp(`${id} ABORTED`))
      await scf.TerminateAsyncEvent({ FunctionName: 'loop', InvokeRequestId: id, GraceShutdown: grace })
      const api = performance.now() - t
      return { api, aborted: (await aborted) - t }
    }
    const graceful = []
    const force = []
    for (let i = 0; i < N; i++) graceful.push(await term(true))
    for (let i = 0; i < N; i++) force.push(await term(false))
    const termRows = [
      `| GraceShutdown=true (library handler returns) | ${N} | ${ms(pct(graceful.map((g) => g.api), 0.5))} | ${ms(pct(graceful.map((g) => g.aborted), 0.5))} | ${ms(pct(graceful.map((g) => g.aborted), 0.99))} |`,
      `| GraceShutdown=false (SIGKILL, tmp wiped) | ${N} | ${ms(pct(force.map((g) => g.api), 0.5))} | ${ms(pct(force.map((g) => g.aborted), 0.5))} | ${ms(pct(force.map((g) => g.aborted), 0.99))} |`,
    ]
    await cli.stop()

    console.log(`\n### Emulator (Node ${process.version}, ${ROUNDS} requests per query; seeding ${EVENTS + OTHER} rows took ${(seedMs / 1000).toFixed(1)} s)\n`)
    console.log(`ListAsyncEvents over HTTP with the official SDK client (signing included), ${EVENTS.toLocaleString('en')} stored events of the function:\n`)
    console.log('| query | TotalCount | p50 ms | p99 ms |\n|---|---|---|---|')
    console.log(listRows.join('\n'))
    console.log('\nInvoke(Event) -> the handler running (its first log line reaching the emulator):\n')
    console.log('| instance | n | Invoke API p50 ms | -> running p50 ms | -> running p99 ms |\n|---|---|---|---|---|')
    console.log(invokeRows.join('\n'))
    console.log('\nTerminateAsyncEvent -> ABORTED (the emulator event-change to ABORTED):\n')
    console.log('| mode | n | API call p50 ms | -> ABORTED p50 ms | -> ABORTED p99 ms |\n|---|---|---|---|---|')
    console.log(termRows.join('\n'))
    const p99 = pct(all, 0.99)
    console.log(`\nListAsyncEvents p99 ${ms(p99)} ms: goal <= 20 ms ${p99 <= 20 ? 'met' : 'NOT met'}`)
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
