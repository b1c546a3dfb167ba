// One install: `npm install scf-graceful` alone, offline, in a fresh project, and the CLI works from there: the
// emulator (`npx scf-graceful local`) serves the Serverless example's CommonJS index.js as SCF would load it, and
// `npx scf-graceful events` drives it. Nothing else is installed: no SDK, no native module, no progress-bar package.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../setup/wait.js'
import { distBuilt } from '../setup/built.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)
const built = distBuilt('test/cli/package-install.test.ts', 'cli.js')

let work: string
let project: string
beforeAll(async () => {
  if (!built) return
  work = mkdtempSync(join(tmpdir(), 'scfg-pack-'))
  project = join(work, 'fn')
  // packed from a copy: `npm pack` in the repo would swap the repo's package.json for the slim one while other test
  // files read it (scripts/pack-manifest.mjs); the copy holds everything the pack reads
  const pkgDir = join(work, 'scf-graceful')
  for (const f of ['package.json', 'README.md', 'scripts', 'dist']) cpSync(join(repo, f), join(pkgDir, f), { recursive: true })
  const { stdout } = await run('npm', ['pack', '--pack-destination', work, '--json'], { cwd: pkgDir, maxBuffer: 16 * 1024 * 1024 })
  const tarball = join(work, (JSON.parse(stdout) as { filename: string }[])[0]!.filename)
  // the Serverless example, as a user would copy it: index.js, serverless.yml, a package.json naming scf-graceful
  cpSync(join(repo, 'examples/serverless'), project, { recursive: true })
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fn', private: true, main: 'index.js' }))
  await run('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund'], { cwd: project, env: { ...process.env, npm_config_cache: join(work, 'empty-cache') } })
}, 120_000)
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

const npxEnv = (extra: Record<string, string> = {}) => {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_offline: 'true', ...extra }
  for (const k of ['TENCENTCLOUD_SECRETID', 'TENCENTCLOUD_SECRETKEY', 'TENCENTCLOUD_SESSIONTOKEN', 'TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY', 'SCF_GRACEFUL_ENDPOINT', 'NODE_PATH']) if (!(k in extra)) delete env[k]
  return env
}

describe.skipIf(!built)('npm install scf-graceful alone, offline', { timeout: 180_000 }, () => {
  it('installs nothing but scf-graceful (no dependencies, no native module)', () => {
    const installed = readdirSync(join(project, 'node_modules')).filter((n) => !n.startsWith('.'))
    expect(installed).toEqual(['scf-graceful'])
  })

  it('npx scf-graceful local serves the example; npx scf-graceful events list / invoke / status --wait / logs drive it', async () => {
    const secretId = 'AKIDpackTest000001'
    const secretKey = 'pack-test-secret-key-000001'
    const local: ChildProcess = spawn('npx', ['scf-graceful', 'local', '--port', '0', '--data-dir', join(work, 'data'), '--secret-id', secretId, '--secret-key', secretKey, '--function', 'async-worker=index.js', '--timeout', '60'], { cwd: project, env: npxEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let out = ''
    local.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    local.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    try {
      const m = await waitFor(
        () => {
          if (local.exitCode !== null) throw new Error(`npx scf-graceful local exited (code ${local.exitCode}) before it started:\n${out}`)
          return out.match(/API 3\.0 endpoint: (http:\/\/127\.0\.0\.1:\d+)/)
        },
        { what: () => `npx scf-graceful local to start:\n${out}`, timeoutMs: 60_000, intervalMs: 100 },
      )
      const env = npxEnv({ SCF_GRACEFUL_ENDPOINT: m[1]!, TENCENTCLOUD_SECRET_ID: secretId, TENCENTCLOUD_SECRET_KEY: secretKey })
      const npx = (...args: string[]) => run('npx', ['scf-graceful', 'events', ...args], { cwd: project, env })
      const list = await npx('list', '-f', 'async-worker', '--json')
      expect(JSON.parse(list.stdout)).toMatchObject({ TotalCount: 0, EventList: [] })
      const id = (await npx('invoke', '-f', 'async-worker', '-p', '{"steps": 3}')).stdout.trim()
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
      const status = await npx('status', id, '--wait', '--timeout', '60s', '--json')
      expect(JSON.parse(status.stdout).Result).toMatchObject({ Status: 'FINISHED', StatusCode: 200 })
      const logs = await npx('logs', id)
      expect(logs.stdout).toContain('worked 3/3 steps')
    } finally {
      // npx runs the CLI as its child: signal the group, as Ctrl-C in a terminal would
      if (local.exitCode === null && local.pid) process.kill(-local.pid, 'SIGINT')
      await new Promise((r) => (local.exitCode !== null ? r(null) : local.once('close', r)))
    }
  })
})
