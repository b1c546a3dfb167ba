// The CLI as one program: one parser (did-you-mean, exit 2 for every usage error), one exit-code table, and Ctrl-C /
// SIGTERM through the shutdown core. Runs the built dist/cli.js in child processes, as a user would.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exitCodeForApi } from '../../src/cli/events/errors.js'
import { exitCodeForError, exitCodes } from '../../src/cli/exit-codes.js'
import { colorWanted } from '../../src/cli/events/output.js'
import { createProgressBar } from '../../src/cli/progress.js'
import { neutralizeControls } from '../../src/cli/terminal-text.js'
import { startSilentServer } from '../setup/faults.mjs'
import { cleanEnv, cliPath, runCli } from './events-helpers.js'
import { waitFor } from '../setup/wait.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scfg-cli-one-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('one exit-code table', () => {
  it('maps package errors and API errors onto the same codes', () => {
    expect(exitCodes).toEqual({ ok: 0, failed: 1, usage: 2, notFound: 3, unavailable: 4, auth: 5, interrupted: 130, terminated: 143 })
    expect(exitCodeForError({ code: 'SCFG_ERR_SNAPSHOT_NOT_FOUND' })).toBe(exitCodeForApi('ResourceNotFound.AsyncEvent'))
    expect(exitCodeForError({ code: 'SCFG_ERR_STORE_UNAVAILABLE' })).toBe(exitCodeForApi('NetworkError'))
    expect(exitCodeForApi('RequestLimitExceeded')).toBe(exitCodes.unavailable)
    expect(exitCodeForError({ code: 'SCFG_ERR_STORE_AUTH' })).toBe(exitCodeForApi('AuthFailure.SignatureFailure'))
    expect(exitCodeForError({ code: 'SCFG_ERR_CHUNK_CORRUPT' })).toBe(exitCodeForApi('FailedOperation.AsyncEventStatus'))
    // a missing bucket is not "nothing to restore": a script must not start fresh on it
    expect(exitCodeForError({ code: 'SCFG_ERR_STORE_NOT_FOUND' })).toBe(exitCodes.failed)
    expect(exitCodeForError({ code: 'SCFG_ERR_SNAPSHOT_ABORTED', cause: { reason: 'SIGTERM' } })).toBe(exitCodes.terminated)
    expect(exitCodeForError(new Error('anything'))).toBe(exitCodes.failed)
  })

  it('every command exits 2 on a usage error, through the same parser (with a did-you-mean)', async () => {
    const env = cleanEnv()
    const cases: [string[], RegExp][] = [
      [['lcoal'], /unknown command "lcoal"; did you mean local\?/],
      [['local', '--prot', '1'], /Unknown option '--prot'; did you mean --port\?/],
      [['snapshot', '--stor', 'fs:/x'], /Unknown option '--stor'; did you mean --store\?/],
      [['restore', 'extra-arg', '--store', 'fs:/x'], /unexpected argument "extra-arg"/],
      [['run-job', 'a.mjs', '--evnt', '{}'], /Unknown option '--evnt'; did you mean --event\?/],
      [['run-job', 'a.mjs', 'b.mjs'], /unexpected argument "b.mjs"/],
      [['events', 'lsit'], /unknown events command "lsit"; did you mean list\?/],
      [['events', 'list', '-f', 'x', '--functoin', 'y'], /Unknown option '--functoin'; did you mean --function\?/],
    ]
    for (const [args, pattern] of cases) {
      const r = await runCli(args, env)
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2)
      expect(r.stderr).toMatch(pattern)
      expect(r.stderr).toContain('SCFG_ERR_CLI_USAGE')
    }
  })

  it('every --help ends with the same exit-code line', async () => {
    const line = 'exit codes: 0 ok · 1 failed · 2 usage · 3 not found · 4 unreachable or rate-limited · 5 auth · 130 Ctrl-C · 143 SIGTERM'
    for (const args of [['--help'], ['local', '--help'], ['events', '--help']]) {
      const r = await runCli(args, cleanEnv())
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(line)
    }
  })
})

describe('Ctrl-C and SIGTERM through the shutdown core', () => {
  it('a restore waiting on a store that never answers stops on SIGINT with 130, and on SIGTERM with 143', async () => {
    const silent = await startSilentServer()
    try {
      // a redis that accepts and never answers holds the restore at its first store call
      const args = ['restore', '--store', `redis://127.0.0.1:${silent.port}/0`, '--root', join(dir, 'r'), '--key', 'k']
      const run = async (signal: NodeJS.Signals) => {
        const before = silent.connections
        const child = spawn(process.execPath, [cliPath, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
        let out = ''
        child.stdout.on('data', (d: Buffer) => (out += d.toString()))
        child.stderr.on('data', (d: Buffer) => (out += d.toString()))
        const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
        await waitFor(() => silent.connections > before, { what: () => `the restore to connect to the silent redis; output: ${out}`, timeoutMs: 15_000, intervalMs: 20 })
        child.kill(signal)
        const kill = setTimeout(() => child.kill('SIGKILL'), 20_000)
        const code = await closed
        clearTimeout(kill)
        return { code, out }
      }
      const i = await run('SIGINT')
      expect(i.code, i.out).toBe(130)
      const t = await run('SIGTERM')
      expect(t.code, t.out).toBe(143)
    } finally {
      await silent.close()
    }
  })
})

describe('one progress bar', () => {
  const sink = () => {
    let text = ''
    return { stream: { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream, text: () => text }
  }
  it('on a TTY: a bar redrawn in place, with the unit, a rate and an ETA; cleared at the end', () => {
    let t = 0
    const out = sink()
    const bar = createProgressBar({ label: 'restore', unit: 'bytes', stream: out.stream, tty: true, now: () => t })
    t = 1000
    bar.update(2 * 1024 * 1024, 8 * 1024 * 1024, '1/4 files')
    expect(out.text()).toBe('\r\u001b[Krestore [######..................] 25% 2.0/8.0 MiB · 2.0 MiB/s · ETA 3s · 1/4 files')
    bar.end()
    expect(out.text().endsWith('\r\u001b[K')).toBe(true)
  })
  it('elsewhere: plain lines at most once a second, and the final numbers at the end', () => {
    let t = 0
    const out = sink()
    const bar = createProgressBar({ label: 'terminating', unit: 'events', stream: out.stream, tty: false, now: () => t })
    t = 500
    bar.update(1, 4)
    t = 900
    bar.update(2, 4)
    t = 2000
    bar.update(4, 4, 'graceful 3 · forced 1')
    bar.end()
    expect(out.text()).not.toContain('\u001b')
    expect(out.text().trimEnd().split('\n')).toEqual(['terminating: 25% 1/4 events · 2.0 events/s · ETA 2s', 'terminating: 100% 4/4 events · 2.0 events/s · graceful 3 · forced 1'])
  })
})

describe('colour and terminal text', () => {
  it('NO_COLOR counts only when non-empty; FORCE_COLOR turns colour on even when piped', () => {
    expect(colorWanted(true, { NO_COLOR: '' })).toBe(true)
    expect(colorWanted(true, { NO_COLOR: '1' })).toBe(false)
    expect(colorWanted(false, { FORCE_COLOR: '1' })).toBe(true)
    expect(colorWanted(true, { FORCE_COLOR: '0' })).toBe(false)
    expect(colorWanted(true, { TERM: 'dumb' })).toBe(false)
  })
  it('control characters of function output become visible text', () => {
    expect(neutralizeControls('a\u001b[2Jb\u009b31mc\u0007\td\r')).toBe('a\\x1b[2Jb\\x9b31mc\\x07\td\\x0d')
  })
})
