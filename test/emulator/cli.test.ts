// `scf-graceful local` as a user runs it: the built CLI in a real child process, driven by the official client.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as sdk from 'tencentcloud-sdk-nodejs-scf'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixture, type ScfClient } from './helpers.js'
import { waitFor as waitForCondition } from '../setup/wait.js'

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
const Client = (((sdk as any).scf ?? (sdk as any).default.scf).v20180416.Client) as new (c: unknown) => ScfClient

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scfg-cli-local-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

interface Running {
  child: ChildProcess
  out: () => string
  port: number
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  stop(): Promise<number | null>
}

async function startCli(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [CLI, 'local', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()))
  const waitFor = (re: RegExp, timeoutMs = 20_000) =>
    waitForCondition(
      () => {
        const m = out.match(re)
        if (!m && child.exitCode !== null) throw new Error(`the CLI exited (code ${child.exitCode}) with no ${re} in its output:\n${out}`)
        return m
      },
      { what: () => `${re} in the CLI output:\n${out}`, timeoutMs, intervalMs: 30 },
    )
  const port = Number((await waitFor(/API 3\.0 endpoint: http:\/\/127\.0\.0\.1:(\d+)/))[1])
  const stop = async () => {
    if (child.exitCode !== null) return child.exitCode
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
    child.kill('SIGINT')
    return exited
  }
  return { child, out: () => out, port, waitFor, stop }
}

const sdkClient = (port: number, secretId: string, secretKey: string) =>
  new Client({ credential: { secretId, secretKey }, region: 'ap-guangzhou', profile: { httpProfile: { endpoint: `127.0.0.1:${port}`, protocol: 'http://' } } })

describe('scf-graceful local', () => {
  it('serves --function functions, prints state changes and prefixed log lines, stops on SIGINT with 130 (the code of every command stopped by Ctrl-C) after closing the emulator', async () => {
    const cli = await startCli([
      '--secret-id', 'AKIDclitest0001', '--secret-key', 'cli-test-secret-key',
      '--data-dir', join(dir, 'a'),
      '--function', `loop=${fixture('graceful-loop.cjs')}`,
      '--function', `ok=${fixture('ok.cjs')}:main_handler`,
      '--no-async-run', 'ok',
      '--timeout', '30',
    ])
    try {
      // the endpoint and console lines are separate writes: a pipe may deliver them in separate chunks
      await cli.waitFor(/console: http:\/\/127\.0\.0\.1:\d+\/console\?token=[0-9a-f]{32}/)
      expect(cli.out()).not.toContain('cli-test-secret-key')
      const scf = sdkClient(cli.port, 'AKIDclitest0001', 'cli-test-secret-key')
      const id = (await scf.Invoke({ FunctionName: 'loop', InvocationType: 'Event', ClientContext: '{}' })).Result.FunctionRequestId as string
      await cli.waitFor(new RegExp(`${id} RUNNING default/loop`))
      await cli.waitFor(new RegExp(`${id} \\| loop started`))
      await scf.TerminateAsyncEvent({ FunctionName: 'loop', InvokeRequestId: id, GraceShutdown: true })
      await cli.waitFor(new RegExp(`${id} \\| \\[PLATFORM\\] Signal received successfully\\.`))
      await cli.waitFor(new RegExp(`${id} ABORTED 200 default/loop after \\d+ ms`))
      const sync = await scf.Invoke({ FunctionName: 'ok', ClientContext: '{"x":1}' })
      expect(JSON.parse(sync.Result.RetMsg)).toEqual({ ok: true, echo: { x: 1 } })
    } finally {
      expect(await cli.stop()).toBe(130)
    }
    expect(cli.out()).toMatch(/SIGINT: stopping the emulator/)
  })

  it('prints a function\'s escape sequences as text, not as terminal control; times carry their zone (UTC+8)', async () => {
    const escapes = fileURLToPath(new URL('../cli/events-fixtures/escapes.cjs', import.meta.url))
    const cli = await startCli(['--secret-id', 'AKIDclitest0003', '--secret-key', 'cli-test-secret-key-3', '--data-dir', join(dir, 'e'), '--function', `esc=${escapes}`])
    try {
      const scf = sdkClient(cli.port, 'AKIDclitest0003', 'cli-test-secret-key-3')
      const id = (await scf.Invoke({ FunctionName: 'esc', InvocationType: 'Event', ClientContext: '{}' })).Result.FunctionRequestId as string
      await cli.waitFor(new RegExp(`${id} FINISHED 200`))
      await cli.waitFor(new RegExp(`${id} \\| title`))
      expect(cli.out()).not.toMatch(/[\u001b\u0007]/)
      expect(cli.out()).toContain(`${id} | title \\x1b]0;pwned\\x07 red \\x1b[31mRED\\x1b[0m clip \\x1b]52;c;ZXZpbA==\\x07 end`)
      expect(cli.out()).toMatch(new RegExp(`\\d{2}:\\d{2}:\\d{2}\\.\\d{3}\\+08:00 ${id} FINISHED`))
    } finally {
      expect(await cli.stop()).toBe(130)
    }
  })

  it('generates credentials when none are given and prints only the SecretId (the key with --print-secret)', async () => {
    const hidden = await startCli(['--data-dir', join(dir, 'b'), '--function', `ok=${fixture('ok.cjs')}`])
    try {
      const m = await hidden.waitFor(/generated credentials: SecretId (AKID\w+) \(SecretKey hidden/)
      expect(m[1]).toMatch(/^AKID/)
      expect(hidden.out()).not.toMatch(/SecretKey \S{20,}/)
    } finally {
      expect(await hidden.stop()).toBe(130)
    }
    const shown = await startCli(['--data-dir', join(dir, 'c'), '--function', `ok=${fixture('ok.cjs')}`, '--print-secret'])
    try {
      const m = await shown.waitFor(/generated credentials: SecretId (AKID\w+) SecretKey (\S+)/)
      const scf = sdkClient(shown.port, m[1]!, m[2]!)
      expect((await scf.ListAsyncEvents({ FunctionName: 'ok' })).TotalCount).toBe(0)
    } finally {
      expect(await shown.stop()).toBe(130)
    }
  })

  it('reads functions from --config (timeout in seconds, namespace, env) and rejects bad usage', async () => {
    const config = join(dir, 'local.json')
    await writeFile(config, JSON.stringify({
      functions: {
        sleepy: { entry: fixture('sleeper.cjs'), timeout: 1, namespace: 'team-a', env: { A: '1' } },
        direct: { entry: fixture('ok.cjs'), asyncRunEnable: false },
        quiet: { entry: fixture('ok.cjs') },
      },
    }))
    const cli = await startCli(['--config', config, '--no-trace', 'quiet', '--data-dir', join(dir, 'd'), '--secret-id', 'AKIDclitest0002', '--secret-key', 'another-secret-key'])
    try {
      await cli.waitFor(/function team-a\/sleepy \(code, host Node.js v[\d.]+, timeout 1000 ms, \$LATEST, async execution with status tracing\)/)
      await cli.waitFor(/function default\/direct \(code, host Node.js v[\d.]+, timeout 3000 ms, \$LATEST, no async execution\)/)
      await cli.waitFor(/function default\/quiet \(code, host Node.js v[\d.]+, timeout 3000 ms, \$LATEST, async execution, no status tracing\)/)
      const scf = sdkClient(cli.port, 'AKIDclitest0002', 'another-secret-key')
      const id = (await scf.Invoke({ FunctionName: 'sleepy', Namespace: 'team-a', InvocationType: 'Event', ClientContext: '{"ms":60000}' })).Result.FunctionRequestId as string
      await cli.waitFor(new RegExp(`${id} FAILED 433 team-a/sleepy`))
    } finally {
      expect(await cli.stop()).toBe(130)
    }
    const bad = spawn(process.execPath, [CLI, 'local', '--function', 'no-entry'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    bad.stderr.on('data', (c: Buffer) => (err += c.toString()))
    const code = await new Promise<number | null>((resolve) => bad.once('close', resolve))
    expect(code).not.toBe(0)
    expect(err).toContain('SCFG_ERR_CLI_USAGE')
    const typo = spawn(process.execPath, [CLI, 'local', '--function', `ok=${fixture('ok.cjs')}`, '--no-async-run', 'okk'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let typoErr = ''
    typo.stderr.on('data', (c: Buffer) => (typoErr += c.toString()))
    expect(await new Promise<number | null>((resolve) => typo.once('close', resolve))).toBe(2)
    expect(typoErr).toContain('--no-async-run okk: no such function; did you mean ok?')
  })

  it('--watch: a changed file replaces the idle instance, says so, and the next event runs the new code', async () => {
    const fnDir = join(dir, 'watched-fn')
    await mkdir(fnDir, { recursive: true })
    const entry = join(fnDir, 'index.js')
    const version = (v: string) => writeFile(entry, `exports.main_handler = async function main_handler() { return '${v}' }\n`)
    await version('v1')
    const cli = await startCli(['--watch', '--function', `wfn=${entry}`, '--no-async-run', 'wfn', '--data-dir', join(fnDir, '.scf-local'), '--secret-id', 'AKIDclitest0003', '--secret-key', 'watch-secret-key'])
    try {
      await cli.waitFor(/watching the functions' folders/)
      const scf = sdkClient(cli.port, 'AKIDclitest0003', 'watch-secret-key')
      expect((await scf.Invoke({ FunctionName: 'wfn', ClientContext: '{}' })).Result.RetMsg).toBe('"v1"')
      await version('v2')
      await cli.waitFor(/reloaded default\/wfn: index\.js changed; 1 idle instance replaced/)
      expect((await scf.Invoke({ FunctionName: 'wfn', ClientContext: '{}' })).Result.RetMsg).toBe('"v2"')
    } finally {
      expect(await cli.stop()).toBe(130)
    }
  })
})
