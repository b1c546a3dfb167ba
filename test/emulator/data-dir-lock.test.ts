// Two emulators on one data dir, as two real `scf-graceful local` processes: the second is refused with a clear
// message and a stable code, and the first one's RUNNING event is left alone; once the first is gone (SIGKILL,
// nothing cleaned up), its stale lock is taken over.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanEnv, cliPath, fixture, root, runCli, until } from '../cli/events-helpers.js'

const dataDir = mkdtempSync(join(tmpdir(), 'scfg-lock-'))
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  rmSync(dataDir, { recursive: true, force: true })
})

const args = ['local', '--port', '0', '--data-dir', dataDir, '--secret-id', 'AKIDlockTest000001', '--secret-key', 'lockTestSecretKey0123456789', '--timeout', '120', '--quiet', '--function', `work=${fixture('work.cjs')}`]

async function start(): Promise<{ child: ChildProcess; origin: string; token: string; output: () => string }> {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() })
  children.push(child)
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  const m = await until('the console line', () => {
    if (child.exitCode !== null) throw new Error(`scf-graceful local exited ${child.exitCode}:\n${out}`)
    return /console: (http:\/\/[^\s/]+)\/console\?token=(\w+)/.exec(out) ?? undefined
  })
  return { child, origin: m[1] as string, token: m[2] as string, output: () => out }
}

const consoleApi = (e: { origin: string; token: string }, path: string, body?: unknown) =>
  fetch(`${e.origin}/console/api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'X-Console-Token': e.token, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).then((r) => r.json())

describe('data dir lock', () => {
  it('refuses a second emulator on the same data dir and leaves the first one running', async () => {
    const first = await start()
    const invoked = await consoleApi(first, '/invoke', { functionName: 'work', payload: { steps: 1000 } })
    const id = invoked.Result.FunctionRequestId as string
    await until('the event to run', async () => ((await consoleApi(first, `/events/${id}`)).event?.status === 'RUNNING' ? true : undefined))

    const second = await runCli(args, cleanEnv(), 30_000)
    expect(second.code).not.toBe(0)
    expect(second.stderr).toContain('SCFG_ERR_EMULATOR_DATA_DIR_LOCKED')
    expect(second.stderr).toMatch(new RegExp(`data dir .* is in use by another emulator \\(process ${first.child.pid}`))
    // today's failure: the second one ended the first one's event FAILED/500 as an orphan
    expect((await consoleApi(first, `/events/${id}`)).event).toMatchObject({ status: 'RUNNING', statusCode: 0 })

    // the first dies without cleaning up: its lock is stale, the next emulator takes over and ends the orphan
    const exited = new Promise((r) => first.child.once('exit', r))
    first.child.kill('SIGKILL')
    await exited
    const third = await start()
    try {
      expect((await consoleApi(third, `/events/${id}`)).event).toMatchObject({ status: 'FAILED', statusCode: 500 })
    } finally {
      const done = new Promise((r) => third.child.once('exit', r))
      third.child.kill('SIGTERM')
      await done
    }
  })
})
