// Image deployments: (1) the drain scenario the graceful-shutdown packages are known by, this adapter vs bare
// server.close(), stoppable, http-terminator and @godaddy/terminus, same run, fresh processes; (2) /event-invoke JSON
// echo throughput vs a bare Express JSON route, with autocannon. Prints markdown tables. Runs against dist/.
import { spawn } from 'node:child_process'
import { Agent, request } from 'node:http'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const here = dirname(fileURLToPath(import.meta.url))
const DRAIN_RUNS = Number(process.env.BENCH_DRAIN_RUNS ?? 3)
const ONLY = process.env.BENCH_ONLY // "drain" or "echo"
const ECHO_ROUNDS = Number(process.env.BENCH_ECHO_ROUNDS ?? 4)
const ECHO_SECONDS = Number(process.env.BENCH_ECHO_SECONDS ?? 6)
// USER_HZ is 100 on every common Linux build
const CLOCK_TICKS = 100
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function startChild(script) {
  const port = await freePort()
  const child = spawn(process.execPath, [join(here, 'servers', script)], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] })
  const marks = {}
  let out = ''
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d
      for (const line of out.split('\n')) {
        const [what, at] = line.split(' ')
        if (what && at && !(what in marks)) marks[what] = Number(at)
        if (what === 'READY') resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before READY`)))
  })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })))
  await ready
  return { child, port, marks, exited }
}

function post(port, body, { agent = false, headers = {} } = {}) {
  const payload = Buffer.from(JSON.stringify(body))
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/event-invoke', agent, headers: { 'content-type': 'application/json', 'content-length': payload.length, ...headers } }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode, at: performance.now() }))
      res.on('error', (err) => resolve({ error: err.code ?? err.message, at: performance.now() }))
    })
    req.on('error', (err) => resolve({ error: err.code ?? err.message, at: performance.now() }))
    req.end(payload)
  })
}

async function drainOnce(script) {
  const { child, port, marks, exited } = await startChild(script)
  const idleAgent = new Agent({ keepAlive: true, maxSockets: 1 })
  const busyAgent = new Agent({ keepAlive: true, maxSockets: 1 })
  await post(port, { fast: true }, { agent: idleAgent })
  const idleSocket = Object.values(idleAgent.freeSockets)[0][0]
  let idleClosedAt = NaN
  idleSocket.once('close', () => (idleClosedAt = performance.now()))

  const slow = post(port, { slow: true }, { agent: busyAgent, headers: { 'x-slow': '1' } })
  await sleep(100)
  const sigAt = performance.now()
  child.kill('SIGTERM')
  await sleep(200)
  const late = await post(port, { fast: true })
  const slowResult = await slow
  const exit = await exited
  idleAgent.destroy()
  busyAgent.destroy()
  return {
    slow: slowResult.status ?? slowResult.error,
    late: late.status ?? late.error,
    idleClosedMs: idleClosedAt - sigAt,
    closedAfterLastResponseMs: marks.CLOSED - marks.RESPONDED,
    closedAfterSigtermMs: marks.CLOSED - marks.SIGTERM,
    exitAfterSigtermMs: exit.at - sigAt,
    exitCode: exit.code ?? exit.signal,
  }
}

const contenders = [
  ['scf-graceful serveEventFunction', 'scf-graceful.mjs'],
  ['bare server.close()', 'bare.mjs'],
  ['stoppable', 'stoppable.mjs'],
  ['http-terminator', 'http-terminator.mjs'],
  ['@godaddy/terminus', 'terminus.mjs'],
]

const fmt = (ms) => (Number.isFinite(ms) ? ms.toFixed(1) : 'n/a')
const mode = (xs) => [...new Set(xs.map(String))].join(' / ')

if (ONLY !== 'echo') {
console.log(`\n### Drain: one idle keep-alive socket + one 1 s in-flight request, SIGTERM at t = 100 ms, late request at SIGTERM + 200 ms (median of ${DRAIN_RUNS} fresh processes each)\n`)
const drain = new Map(contenders.map(([name]) => [name, []]))
for (let round = 0; round < DRAIN_RUNS; round++) {
  // rotate the order so no contender always runs first (cold disk cache, CPU frequency)
  const order = contenders.map((_, i) => contenders[(i + round) % contenders.length])
  for (const [name, script] of order) drain.get(name).push(await drainOnce(script))
}
console.log('| contender | in-flight request | late request | idle socket closed after SIGTERM (ms) | server closed after last response (ms) | server closed after SIGTERM (ms) | process exit after SIGTERM (ms) | exit |')
console.log('|---|---|---|---|---|---|---|---|')
for (const [name] of contenders) {
  const runs = drain.get(name)
  const m = (k) => fmt(median(runs.map((r) => r[k])))
  console.log(`| ${name} | ${mode(runs.map((r) => r.slow))} | ${mode(runs.map((r) => r.late))} | ${m('idleClosedMs')} | ${m('closedAfterLastResponseMs')} | ${m('closedAfterSigtermMs')} | ${m('exitAfterSigtermMs')} | ${mode(runs.map((r) => r.exitCode))} |`)
}
}

async function echoOnce(script) {
  const { child, port, exited } = await startChild(script)
  const opts = {
    url: `http://127.0.0.1:${port}/event-invoke`,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-scf-request-id': 'bench', 'x-scf-timeout': '30' },
    body: JSON.stringify({ id: 42, name: 'echo', items: [1, 2, 3, 4, 5], nested: { a: 'b', c: [true, false, null] }, text: 'x'.repeat(200) }),
    connections: 32,
  }
  // warm up by count, not time: a loaded machine would otherwise leave the JIT cold
  await autocannon({ ...opts, amount: 3000 })
  const cpuBefore = cpuMs(child.pid)
  const result = await autocannon({ ...opts, duration: ECHO_SECONDS })
  const cpu = cpuMs(child.pid) - cpuBefore
  child.kill('SIGKILL')
  await exited
  // CPU time the server process spent per request: unlike req/s, it hardly moves when other work shares the machine
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx, cpuUsPerReq: (cpu * 1000) / result.requests.total }
}

/** utime + stime of a process in ms, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS
  } catch {
    return NaN
  }
}

if (ONLY !== 'drain') {
console.log(`\n### /event-invoke JSON echo throughput (autocannon, 32 connections, ${ECHO_SECONDS} s after 3000 warm-up requests, median of ${ECHO_ROUNDS} alternating rounds)\n`)
const echo = { ours: [], express: [] }
for (let round = 0; round < ECHO_ROUNDS; round++) {
  const pair = round % 2 === 0 ? ['ours', 'express'] : ['express', 'ours']
  for (const who of pair) echo[who].push(await echoOnce(who === 'ours' ? 'echo-scf-graceful.mjs' : 'echo-express.mjs'))
}
const rps = (who) => median(echo[who].map((r) => r.rps))
const cpu = (who) => median(echo[who].map((r) => r.cpuUsPerReq))
console.log('| server | req/s | p99 latency (ms) | errors | req/s ratio | server CPU per request (µs) | CPU ratio |')
console.log('|---|---|---|---|---|---|---|')
console.log(`| bare Express \`express.json()\` route | ${rps('express').toFixed(0)} | ${median(echo.express.map((r) => r.p99))} | ${echo.express.reduce((a, r) => a + r.errors, 0)} | 1.00 | ${cpu('express').toFixed(0)} | 1.00 |`)
console.log(`| scf-graceful serveEventFunction | ${rps('ours').toFixed(0)} | ${median(echo.ours.map((r) => r.p99))} | ${echo.ours.reduce((a, r) => a + r.errors, 0)} | ${(rps('ours') / rps('express')).toFixed(2)} | ${cpu('ours').toFixed(0)} | ${(cpu('ours') / cpu('express')).toFixed(2)} |`)
}
console.log(`\nload average at the end: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`)
console.log(`\nnode ${process.version}, ${(await import('node:os')).cpus().length} CPUs`)
