// Emulator benchmark, against the built CLI (`node dist/cli.js local`) over HTTP with the official SDK client:
//   1. ListAsyncEvents p50/p99 with 100,000 stored events of one function (+20,000 of another), filters and paging
//   2. Invoke(Event) -> the handler running, warm instance vs cold instance
//   3. TerminateAsyncEvent(GraceShutdown) -> ABORTED (and force -> ABORTED)
// Prints markdown tables. Method and results: BENCHMARKS.md, section `emulator`.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import scfSdk from 'tencentcloud-sdk-nodejs-scf'

const here = (p) => fileURLToPath(new URL(p, import.meta.url))
const CLI = here('../../dist/cli.js')
const SECRET_ID = 'AKIDbenchmark000001'
const SECRET_KEY = 'benchmark-secret-key-0001'
const EVENTS = 100_000
const OTHER = 20_000
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200)
const children = new Set()
// never leave an emulator behind, whatever happens to this process
process.on('exit', () => { for (const c of children) c.kill('SIGKILL') })

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))]
}
const ms = (x) => x.toFixed(2)

function startCli(dataDir, extra = []) {
  const child = spawn(process.execPath, [CLI, 'local', '--port', '0', '--rate-limit', 'off', '--secret-id', SECRET_ID, '--secret-key', SECRET_KEY, '--data-dir', dataDir,
    '--function', `work=${here('./fixtures/work.mjs')}`, '--function', `loop=${here('./fixtures/loop.mjs')}`, '--function', `listed=${here('./fixtures/work.mjs')}`, '--function', `other=${here('./fixtures/work.mjs')}`,
    '--timeout', '60', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.add(child)
  child.once('exit', () => children.delete(child))
  const waiters = []
  // every line with the time it arrived, so a waiter registered late still sees it
  const seen = []
  let buffer = ''
  child.stdout.on('data', (chunk) => {
    buffer += chunk.toString()
    let nl
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      const at = performance.now()
      seen.push({ line, at })
      if (seen.length > 5000) seen.splice(0, 2500)
      for (const w of [...waiters]) if (w.test(line)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(at)
      }
    }
  })
  const waitLine = (match, timeoutMs = 30_000) => new Promise((resolve, reject) => {
    const test = (l) => (typeof match === 'string' ? l.includes(match) : match.test(l))
    const earlier = seen.find((s) => test(s.line))
    if (earlier) return resolve(earlier.at)
    const timer = setTimeout(() => reject(new Error(`timed out waiting for a line matching ${match}`)), timeoutMs)
    waiters.push({ test, resolve: (t) => (clearTimeout(timer), resolve(t)) })
  })
  const ready = waitLine(/API 3\.0 endpoint: http:\/\/127\.0\.0\.1:\d+/)
  let port
  child.stdout.on('data', (c) => {
    const m = /API 3\.0 endpoint: http:\/\/127\.0\.0\.1:(\d+)/.exec(c.toString())
    if (m) port = Number(m[1])
  })
  return {
    ready: ready.then(() => port),
    waitLine,
    stop: () => new Promise((resolve) => {
      child.once('exit', resolve)
      child.kill('SIGINT')
    }),
  }
}

const client = (port) => new scfSdk.scf.v20180416.Client({
  credential: { secretId: SECRET_ID, secretKey: SECRET_KEY },
  region: 'ap-guangzhou',
  profile: { httpProfile: { endpoint: `127.0.0.1:${port}`, protocol: 'http://' } },
})

function seed(dataDir) {
  const db = new Database(join(dataDir, 'events.sqlite'))
  const insert = db.prepare('INSERT INTO events (request_id, function_name, namespace, qualifier, invoke_type, status, status_code, start_us, end_us, ret_msg, err_msg) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)')
  const now = Date.now() * 1000
  const span = 2.5 * 24 * 3600 * 1e6
  const statuses = [['FINISHED', 200], ['FINISHED', 200], ['FINISHED', 200], ['FAILED', 430], ['ABORTED', 499], ['ABORTED', 200]]
  let x = 12345
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648)
  db.transaction(() => {
    for (let i = 0; i < EVENTS + OTHER; i++) {
      const start = Math.floor(now - span + rnd() * span)
      const [status, code] = i % 500 === 0 ? ['RUNNING', 0] : statuses[Math.floor(rnd() * statuses.length)]
      insert.run(`seed-${i}`, i < EVENTS ? 'listed' : 'other', 'default', '$LATEST', 'OTHERS', status, code, start, status === 'RUNNING' ? null : start + Math.floor(rnd() * 600e6))
    }
  })()
  db.close()
}

const fmt = (us) => {
  const d = new Date(us / 1000 + 8 * 3600e3).toISOString()
  return `${d.slice(0, 10)} ${d.slice(11, 19)}`
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'scfg-bench-emulator-'))
  try {
    // the emulator creates its schema, then the bench fills it directly
    let cli = startCli(dataDir)
    await cli.ready
    await cli.stop()
    const t0 = performance.now()
    seed(dataDir)
    const seedMs = performance.now() - t0
    cli = startCli(dataDir)
    const port = await cli.ready
    const scf = client(port)

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
    console.log('\nInvoke(Event) -> the handler running (its first log line seen on the CLI output):\n')
    console.log('| instance | n | Invoke API p50 ms | -> running p50 ms | -> running p99 ms |\n|---|---|---|---|---|')
    console.log(invokeRows.join('\n'))
    console.log('\nTerminateAsyncEvent -> ABORTED (the state-change line seen on the CLI output):\n')
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
