// The exact Node.js binaries of SCF's runtimes, for tests that run child processes on them. Looked up in the runtimes
// cache (SCF_GRACEFUL_RUNTIMES_DIR or the per-user default: `.ci/run` fills it with `scf-graceful runtimes install`),
// then in /tmp/rt (where a dev machine may have unpacked them by hand). Missing: a LOUD skip locally, a failing test
// under CI=true.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, it } from 'vitest'
import { runtimeBinaryPath } from '../../src/runtime-cache/index.js'
import { scfRuntimes, type ScfRuntimeName } from '../../src/scf/runtimes.js'

export const SCF_RUNTIMES = Object.keys(scfRuntimes) as ScfRuntimeName[]

export function runtimeBinary(name: ScfRuntimeName): string | undefined {
  const candidates = [runtimeBinaryPath(name), `/tmp/rt/x${scfRuntimes[name]}/package/bin/node`]
  return candidates.find((path) => existsSync(path))
}

/**
 * `describe(suite, body)` once per SCF runtime whose binary is here; for a missing one a loud skip (or, under CI=true,
 * a failing test).
 */
export function describeOnRuntimes(suite: string, body: (runtime: ScfRuntimeName, node: string) => void, runtimes: ScfRuntimeName[] = SCF_RUNTIMES): void {
  for (const runtime of runtimes) {
    const node = runtimeBinary(runtime)
    const title = `${suite} on ${runtime}`
    if (node) {
      describe(title, () => body(runtime, node))
    } else if (process.env.CI === 'true') {
      describe(title, () => it(`needs the ${runtime} binary`, () => { throw new Error(`${runtime} is required under CI: run \`scf-graceful runtimes install ${runtime}\``) }))
    } else {
      console.warn(`\n*** SKIPPING ${title}: no ${runtime} binary (scf-graceful runtimes install ${runtime}) ***\n`)
      describe.skip(title, () => it('skipped', () => {}))
    }
  }
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs `node args` to its end (bounded), collecting its output; `onStdout` may signal it on the way. */
export function runNode(node: string, args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; onStdout?: (all: string, child: import('node:child_process').ChildProcess) => void } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, { cwd: options.cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s
      options.onStdout?.(stdout, child)
    })
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${args.join(' ')} did not end within ${options.timeoutMs ?? 20_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, options.timeoutMs ?? 20_000)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/** The last line of stdout that parses as JSON. */
export function lastJson(out: string): any {
  const lines = out.trim().split('\n').reverse()
  for (const line of lines) {
    try {
      return JSON.parse(line)
    } catch {}
  }
  throw new Error(`no JSON line in:\n${out}`)
}

/**
 * A user's project in a temp dir, as `npm install scf-graceful <peers>` would lay it out: a copy of the built package
 * (a copy, not a link: a link's real path would resolve peers from this repo's node_modules) and each peer linked to
 * the version under test, e.g. `{ express: 'express4' }` puts this repo's `express4` alias where `express` goes.
 * Fixtures named in `files` are copied to the project's root.
 */
export async function userProject(peers: Record<string, string>, files: string[] = []): Promise<{ dir: string; remove(): Promise<void> }> {
  const { cp, mkdir, mkdtemp, rm, symlink, writeFile } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { basename, dirname, join } = await import('node:path')
  const root = new URL('../../', import.meta.url).pathname
  const dir = await mkdtemp(join(tmpdir(), 'scfg-user-project-'))
  const pkg = join(dir, 'node_modules', 'scf-graceful')
  await mkdir(pkg, { recursive: true })
  await cp(join(root, 'package.json'), join(pkg, 'package.json'))
  await cp(join(root, 'dist'), join(pkg, 'dist'), { recursive: true })
  for (const [name, real] of Object.entries(peers)) {
    await mkdir(dirname(join(dir, 'node_modules', name)), { recursive: true })
    await symlink(join(root, 'node_modules', real), join(dir, 'node_modules', name), 'dir')
  }
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'user-function', private: true }))
  for (const file of files) await cp(file, join(dir, basename(file)), { recursive: true })
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

/**
 * A code function's folder as SCF unpacks its zip: the folder's files at the root and `node_modules/scf-graceful`
 * (the built package) next to them, as `npm install` in the folder before zipping leaves it.
 */
export async function unpackedZip(folder: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const { cp, mkdtemp, readdir } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const project = await userProject({})
  const dir = await mkdtemp(join(tmpdir(), 'scfg-zip-'))
  for (const name of await readdir(folder)) if (name !== 'node_modules') await cp(join(folder, name), join(dir, name), { recursive: true })
  await cp(join(project.dir, 'node_modules'), join(dir, 'node_modules'), { recursive: true })
  await project.remove()
  const { rm } = await import('node:fs/promises')
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}
