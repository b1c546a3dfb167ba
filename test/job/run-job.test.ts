// `scf-graceful run-job`: event from SCF_CUSTOM_CONTAINER_EVENT, context from env, exit code = outcome.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
const handlerModule = fileURLToPath(new URL('./fixtures/job-handler.mjs', import.meta.url))

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
}

function runJob(args: string[], env: Record<string, string | undefined>, options: { signalAfter?: { pattern: RegExp; signal: NodeJS.Signals }; slowReaderMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'run-job', ...args], { env: { ...process.env, SCF_FUNCTIONNAME: 'job-fn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    let signalled = false
    const onData = (d: Buffer) => {
      output += d.toString()
      if (options.signalAfter && !signalled && options.signalAfter.pattern.test(output)) {
        signalled = true
        child.kill(options.signalAfter.signal)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    if (options.slowReaderMs) {
      // a log collector that falls behind: the pipes fill and the job's writes queue up inside it
      child.stdout.pause()
      child.stderr.pause()
      setTimeout(() => (child.stdout.resume(), child.stderr.resume()), options.slowReaderMs)
    }
    child.once('close', (code, signal) => resolve({ code, signal, output }))
  })
}

describe('scf-graceful run-job', () => {
  it('exits 0 when the handler returns, with event and context from the environment; hooks run', async () => {
    const run = await runJob([handlerModule], { SCF_CUSTOM_CONTAINER_EVENT: '{"action":"ok","n":1}', SCF_REQUEST_ID: 'job-req-1', SCF_TIMEOUT: '30' })
    expect(run.output).toContain('job started job-req-1 event={"action":"ok","n":1} fn=job-fn timeLimitMs=30000')
    expect(run.output).toContain('hook ran')
    expect(run.output).toMatch(/job done requestId=job-req-1 exitCode=0/)
    expect(run.code).toBe(0)
  })

  it('reads a missing event as {} and runs a named export', async () => {
    const run = await runJob([`${handlerModule}:other`], { SCF_CUSTOM_CONTAINER_EVENT: undefined })
    expect(run.output).toContain('other export ran')
    expect(run.code).toBe(0)
  })

  it('exits 1 when the handler throws, with the error in the log', async () => {
    const run = await runJob([handlerModule], { SCF_CUSTOM_CONTAINER_EVENT: '{"action":"throw"}' })
    expect(run.code).toBe(1)
    expect(run.output).toMatch(/job failed requestId=\S+ error=Error: job broke/)
    expect(run.output).toContain('hook ran')
  })

  it('exits only once its output is written: a slow log reader still gets every line and the error', async () => {
    const run = await runJob([handlerModule], { SCF_CUSTOM_CONTAINER_EVENT: '{"action":"throw","lines":4000}' }, { slowReaderMs: 300 })
    expect(run.code).toBe(1)
    expect(run.output.match(/^burst \d+ z+$/gm)).toHaveLength(4000)
    expect(run.output).toMatch(/job failed requestId=\S+ error=Error: job broke/)
    expect(run.output).toMatch(/job done requestId=\S+ exitCode=1/)
  })

  it('exits 65 with a clear message when SCF_CUSTOM_CONTAINER_EVENT is not JSON', async () => {
    const run = await runJob([handlerModule], { SCF_CUSTOM_CONTAINER_EVENT: '{"action": oops' })
    expect(run.code).toBe(65)
    expect(run.output).toMatch(/SCF_CUSTOM_CONTAINER_EVENT is not valid JSON \(SCFG_ERR_EVENT_MALFORMED\)/)
    expect(run.output).not.toContain('job started')
  })

  it('SIGTERM: the handler sees inv.signal; returning exits 0, rethrowing the stop exits 143; hooks run once', async () => {
    const returned = await runJob([handlerModule], { SCF_CUSTOM_CONTAINER_EVENT: '{"action":"wait"}' }, { signalAfter: { pattern: /job started/, signal: 'SIGTERM' } })
    expect(returned.output).toContain('job aborted=true reason=SIGTERM')
    expect(returned.code).toBe(0)
    expect(returned.output.match(/hook ran/g)).toHaveLength(1)

    const thrown = await runJob([handlerModule], { SCF_CUSTOM_CONTAINER_EVENT: '{"action":"wait","onAbort":"throw"}' }, { signalAfter: { pattern: /job started/, signal: 'SIGTERM' } })
    expect(thrown.output).toContain('job aborted=true reason=SIGTERM')
    expect(thrown.output).toMatch(/job stopped requestId=\S+ reason=SIGTERM/)
    expect(thrown.code).toBe(143)
    expect(thrown.output.match(/hook ran/g)).toHaveLength(1)
  })

  it('SIGINT exits 130', async () => {
    const run = await runJob([handlerModule], { SCF_CUSTOM_CONTAINER_EVENT: '{"action":"wait","onAbort":"throw"}' }, { signalAfter: { pattern: /job started/, signal: 'SIGINT' } })
    expect(run.code).toBe(130)
  })

  it('exits 124 when the job nears its timeout and stops', async () => {
    const run = await runJob([handlerModule], { SCF_CUSTOM_CONTAINER_EVENT: '{"action":"wait","onAbort":"throw"}', SCF_TIMEOUT: '1' })
    expect(run.output).toContain('job aborted=true reason=timeout')
    expect(run.code).toBe(124)
  })

  it('exits even when the handler leaves a handle open', async () => {
    const run = await runJob([handlerModule], { SCF_CUSTOM_CONTAINER_EVENT: '{"action":"linger"}' })
    expect(run.code).toBe(0)
  })

  it('never logs the credentials', async () => {
    const secretKey = 'job-secret-key-0123456789abcdef'
    const token = 'job-session-token-0123456789abcdef'
    const run = await runJob([handlerModule], { SCF_CUSTOM_CONTAINER_EVENT: '{"action":"throw","leakSecret":true}', TENCENTCLOUD_SECRETID: 'AKIDjob0123456789', TENCENTCLOUD_SECRETKEY: secretKey, TENCENTCLOUD_SESSIONTOKEN: token })
    expect(run.code).toBe(1)
    expect(run.output).toContain('key=***')
    expect(run.output).not.toContain(secretKey)
    expect(run.output).not.toContain(token)
  })

  it('exits 2 with a usage error for a missing export or no entry', async () => {
    const missing = await runJob([`${handlerModule}:nope`], {})
    expect(missing.code).toBe(2)
    expect(missing.output).toContain('SCFG_ERR_HANDLER_NOT_FOUND')
    const none = await runJob([], {})
    expect(none.code).toBe(2)
    expect(none.output).toContain('SCFG_ERR_CLI_USAGE')
  })

  it('SIGTERM during the start-up restore: the handler never starts, exit 143', async () => {
    const entry = fileURLToPath(new URL('./fixtures/slow-restore.mjs', import.meta.url))
    const run = await new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, [entry], { env: { ...process.env, SCF_CUSTOM_CONTAINER_EVENT: '{}' }, stdio: ['ignore', 'pipe', 'pipe'] })
      let output = ''
      let sent = false
      const onData = (d: Buffer) => {
        output += d.toString()
        if (!sent && /restore start/.test(output)) {
          sent = true
          child.kill('SIGTERM')
        }
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      child.once('close', (code, signal) => resolve({ code, signal, output }))
    })
    expect(run.output).not.toContain('handler ran')
    expect(run.output).toMatch(/job stopped requestId=\S+ reason=SIGTERM/)
    expect(run.code).toBe(143)
  })
})
