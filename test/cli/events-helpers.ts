// Runs the real CLI (dist/cli.js) as child processes: `scf-graceful local` as the emulator, `scf-graceful events` against it.
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from '../setup/wait.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))

/**
 * The tests run a private copy of the build (package.json + dist + these fixtures, node_modules linked), so a
 * rebuild of the shared tree while they run (`tsup` cleans dist first) cannot pull files from under them. Fixtures
 * import 'scf-graceful' by name, which resolves to the copy through its package.json self-reference.
 */
function isolatedCopy(): string {
  const must = ['dist/cli.js', 'dist/index.js', 'dist/harness/code-runtime.js']
  const deadline = Date.now() + 60_000
  for (;;) {
    if (must.every((f) => existsSync(join(repo, f)))) {
      const dir = mkdtempSync(join(tmpdir(), 'scfg-cli-pkg-'))
      try {
        cpSync(join(repo, 'package.json'), join(dir, 'package.json'))
        cpSync(join(repo, 'dist'), join(dir, 'dist'), { recursive: true })
        cpSync(fileURLToPath(new URL('./events-fixtures', import.meta.url)), join(dir, 'fixtures'), { recursive: true })
        symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir')
        if (must.every((f) => existsSync(join(dir, f)))) return dir
      } catch {
        // a build was rewriting dist while we copied: try again
      }
      rmSync(dir, { recursive: true, force: true })
    }
    if (Date.now() > deadline) throw new Error(`${join(repo, 'dist')} is missing or incomplete: run \`npm run build\` first (these tests run the built CLI)`)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000)
  }
}

export const root = isolatedCopy()
const emptyHome = mkdtempSync(join(tmpdir(), 'scfg-cli-home-'))
export const cliPath = join(root, 'dist/cli.js')
export const fixture = (name: string): string => join(root, 'fixtures', name)

export function assertBuilt(): void {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first (these tests run the built CLI)`)
}

process.once('exit', () => {
  rmSync(root, { recursive: true, force: true })
  rmSync(emptyHome, { recursive: true, force: true })
})

export interface LocalEmulator {
  url: string
  consoleUrl: string
  token: string
  secretId: string
  secretKey: string
  child: ChildProcess
  output: () => string
  stop(): Promise<void>
}

/** Starts `scf-graceful local` on a free port and waits (bounded) for its console line. */
export async function startLocal(functions: Record<string, string>, extra: string[] = []): Promise<LocalEmulator> {
  assertBuilt()
  const dataDir = mkdtempSync(join(tmpdir(), 'scfg-cli-'))
  const secretId = 'AKIDcliTest0123456789'
  const secretKey = 'cliTestSecretKey0123456789abcdef'
  const args = [cliPath, 'local', '--port', '0', '--data-dir', dataDir, '--secret-id', secretId, '--secret-key', secretKey, '--timeout', '120', '--quiet', ...extra]
  for (const [name, entry] of Object.entries(functions)) args.push('--function', `${name}=${entry}`)
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  const m = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`scf-graceful local exited (code ${child.exitCode}) before it started:\n${out}`)
      return /console: (http:\/\/[^\s]+\/console\?token=(\w+))/.exec(out)
    },
    { what: () => `scf-graceful local to start:\n${out}`, timeoutMs: 20_000, intervalMs: 50 },
  ).catch((err: unknown) => {
    child.kill('SIGKILL')
    throw err
  })
  const consoleUrl = m[1] as string
  return {
    url: new URL(consoleUrl).origin,
    consoleUrl,
    token: m[2] as string,
    secretId,
    secretKey,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(t)
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** This process's env without Tencent Cloud credentials or our endpoint (tests set what they need). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const k of ['TENCENTCLOUD_SECRETID', 'TENCENTCLOUD_SECRETKEY', 'TENCENTCLOUD_SESSIONTOKEN', 'TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY', 'TENCENTCLOUD_SESSION_TOKEN', 'TENCENTCLOUD_REGION', 'TCCLI_PROFILE', 'SCF_GRACEFUL_ENDPOINT', 'SCF_GRACEFUL_CONSOLE_TOKEN', 'NO_COLOR', 'FORCE_COLOR']) delete env[k]
  // no tccli profile of the machine's user leaks into a test: HOME is an empty directory unless a test sets one
  return { ...env, HOME: emptyHome, ...extra }
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `scf-graceful ...args` to completion (bounded). */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000, onStdout?: (stdout: string) => void): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      onStdout?.(stdout)
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`scf-graceful ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** `scf-graceful events ...` against the emulator, credentials and endpoint from the env (as a user would set them). */
export function eventsCli(local: LocalEmulator, args: string[], env: Record<string, string> = {}, timeoutMs?: number): Promise<CliResult> {
  return runCli(['events', ...args], cleanEnv({ SCF_GRACEFUL_ENDPOINT: local.url, TENCENTCLOUD_SECRETID: local.secretId, TENCENTCLOUD_SECRETKEY: local.secretKey, ...env }), timeoutMs)
}

export function json<T = any>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`)
  }
}

/** Polls until `check` returns a value (bounded). */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const found = await waitFor(async () => {
    const v = await check()
    return v === undefined ? undefined : { v }
  }, { what, timeoutMs, intervalMs: 100 })
  return found.v
}
