// `npm run demo`: the local SCF emulator (in this process, speaking the real Tencent Cloud API) runs a resumable job
// and we stop it twice, the graceful way and the hard way. Everything lives under .demo-data/ (fresh each run).
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import tencentcloud from 'tencentcloud-sdk-nodejs-scf'
import { startLocalServer } from '../../dist/emulator/server.js'

const here = dirname(fileURLToPath(import.meta.url))
const data = resolve(process.env.DEMO_DATA_DIR ?? join(here, '../../.demo-data'))
const FN = 'resumable-job'
const started = Date.now()

const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s)
const dim = (s) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s)
const say = (s = '') => console.log(s)
const step = (n, s) => say(`\n${bold(`${n}. ${s}`)}`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

await rm(data, { recursive: true, force: true })
const local = await startLocalServer({
  port: 0,
  dataDir: join(data, 'emulator'),
  functions: [{ name: FN, entry: join(here, 'job.cjs'), timeoutMs: 60_000, env: { DEMO_STORE_DIR: join(data, 'store') } }],
})
const scf = new tencentcloud.scf.v20180416.Client({
  credential: { secretId: local.secretId, secretKey: local.secretKey },
  region: 'ap-guangzhou',
  profile: { httpProfile: { endpoint: `127.0.0.1:${local.port}`, protocol: 'http://' } },
})

const show = (r) => say(`   GetAsyncEventStatus -> ${bold(`${r.Status}/${r.StatusCode}`)}`)

// the event's own log, as the platform would show it
const lines = new Map()
local.emulator.on('log', ({ requestId, line }) => {
  if (!lines.has(requestId)) lines.set(requestId, [])
  lines.get(requestId).push(line)
  if (/^(START|END|Report) /.test(line)) return
  say(`   ${dim(requestId.slice(0, 8))} │ ${line}`)
})

async function waitForLine(id, re, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  while (!(lines.get(id) ?? []).some((l) => re.test(l))) {
    if (Date.now() > deadline) throw new Error(`no log line ${re} from ${id}`)
    await sleep(20)
  }
  return lines.get(id).find((l) => re.test(l))
}

async function waitForEnd(id, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    // the platform's advice: poll GetAsyncEventStatus, not ListAsyncEvents
    const { Result } = await scf.GetAsyncEventStatus({ InvokeRequestId: id })
    if (Result.Status !== 'RUNNING') return Result
    if (Date.now() > deadline) throw new Error(`event ${id} still RUNNING`)
    await sleep(100)
  }
}

async function invoke(event) {
  const { Result } = await scf.Invoke({ FunctionName: FN, InvocationType: 'Event', ClientContext: JSON.stringify(event) })
  say(`   Invoke(Event) -> FunctionRequestId ${Result.FunctionRequestId}`)
  show((await scf.GetAsyncEventStatus({ InvokeRequestId: Result.FunctionRequestId })).Result)
  return Result.FunctionRequestId
}

const check = (cond, what) => {
  if (!cond) throw new Error(`demo expectation failed: ${what}`)
}

try {
  say(bold('scf-graceful demo: a resumable job on the local SCF emulator'))
  say(dim(`   emulator ${local.url} (Tencent Cloud API 3.0, TC3-signed, driven by tencentcloud-sdk-nodejs-scf) · data in ${data}`))

  step(1, 'Invoke the job asynchronously: 30 items, 100 ms each, progress kept in /tmp, checkpointed every second')
  const e1 = await invoke({ job: 'A', items: 30 })
  await waitForLine(e1, /job A: 15\/30 items done/)
  const tmp = /root=(\S+)/.exec(await waitForLine(e1, /root=/))?.[1]

  step(2, 'TerminateAsyncEvent with GraceShutdown=false: the instance is SIGKILLed, its /tmp is lost')
  await scf.TerminateAsyncEvent({ FunctionName: FN, InvokeRequestId: e1, GraceShutdown: false })
  const r2 = (await scf.GetAsyncEventStatus({ InvokeRequestId: e1 })).Result
  show(r2)
  check(r2.Status === 'ABORTED' && r2.StatusCode === 499, 'force terminate ends ABORTED/499')
  const lastDone = Math.max(...lines.get(e1).map((l) => Number(/job A: (\d+)\/30 items done/.exec(l)?.[1] ?? 0)))
  check(tmp !== undefined && !existsSync(tmp), 'the instance tmp dir is wiped')
  say(`   the job had done at least ${lastDone} items; its /tmp (${tmp}) no longer exists`)

  step(3, 'Invoke again: a new instance restores /tmp from the last periodic checkpoint and carries on')
  const e2 = await invoke({ job: 'A', items: 30 })
  const resumed = await waitForLine(e2, /job A: (resuming|starting)/)
  const from = Number(/resuming at item (\d+)/.exec(resumed)?.[1] ?? 1)
  check(from > 1, 'the job resumes from a checkpoint, not from scratch')
  say(`   ${bold(`resumed at item ${from}`)}: the checkpoint held ${from - 1} items, ${Math.max(0, lastDone - (from - 1))} item(s) after it are redone`)
  await sleep(700)

  step(4, 'TerminateAsyncEvent with GraceShutdown=true: SIGTERM, the handler stops and the library flushes /tmp')
  await scf.TerminateAsyncEvent({ FunctionName: FN, InvokeRequestId: e2, GraceShutdown: true })
  const r4 = await waitForEnd(e2)
  show(r4)
  check(r4.Status === 'ABORTED' && r4.StatusCode === 200, 'graceful terminate ends ABORTED/200')
  check(lines.get(e2).includes('[PLATFORM] Signal received successfully.'), 'the [PLATFORM] line')
  const stoppedAt = Number(/after item (\d+)/.exec(await waitForLine(e2, /asked to stop after item/))[1])

  step(5, 'Invoke again: it resumes exactly where it stopped, nothing redone, and FINISHES')
  const e3 = await invoke({ job: 'A', items: 30 })
  const again = await waitForLine(e3, /job A: (resuming|starting)/)
  const r5 = await waitForEnd(e3)
  show(r5)
  check(again.includes(`resuming at item ${stoppedAt + 1}/30`), `the job resumes at item ${stoppedAt + 1}`)
  check(r5.Status === 'FINISHED' && r5.StatusCode === 200, 'the job finishes')

  const listed = await scf.ListAsyncEvents({ FunctionName: FN, Order: 'ASC' })
  say(`\n${bold('ListAsyncEvents')} (${listed.TotalCount} events):`)
  for (const e of listed.EventList) {
    const code = (await scf.GetAsyncEventStatus({ InvokeRequestId: e.InvokeRequestId })).Result.StatusCode
    say(`   ${e.StartTime}  ${e.InvokeRequestId}  ${`${e.Status}/${code}`.padEnd(13)} ended ${e.EndTime}`)
  }
  say(`\n${bold('done')} in ${((Date.now() - started) / 1000).toFixed(1)} s. Try it yourself: npx scf-graceful local --function ${FN}=examples/resumable-job/job.cjs --timeout 60`)
} finally {
  await local.close()
}

