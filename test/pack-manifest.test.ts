// What `npm pack` ships as package.json (scripts/pack-manifest.mjs, the prepack/postpack scripts): the repo's without
// devDependencies and scripts, because Node parses it on every cold start's require('scf-graceful'); and the repo's
// package.json is byte for byte what it was after the pack, also when the pack fails or an earlier one was interrupted.
// Packs a copy of the package (package.json, scripts/, README.md, dist/), so no other test's pack of the repo races it.
import { execFile, execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { distBuilt } from './setup/built.js'

const repo = fileURLToPath(new URL('..', import.meta.url))
const run = promisify(execFile)
const built = distBuilt('test/pack-manifest.test.ts', 'index.cjs')

type Manifest = Record<string, unknown> & { exports: Record<string, unknown> }
const original = readFileSync(join(repo, 'package.json'), 'utf8')
const full = JSON.parse(original) as Manifest
let work: string
let pkgDir: string
const backup = () => join(pkgDir, '.package.json.pack-backup')

beforeAll(() => {
  if (!built) return
  work = mkdtempSync(join(tmpdir(), 'scfg-manifest-'))
  pkgDir = join(work, 'scf-graceful')
  mkdirSync(pkgDir)
  for (const f of ['package.json', 'README.md', 'scripts', 'dist']) cpSync(join(repo, f), join(pkgDir, f), { recursive: true })
})
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

async function pack(destination: string): Promise<string> {
  // stdout must be npm's JSON alone: the lifecycle scripts print nothing there
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', destination], { cwd: pkgDir, maxBuffer: 16 * 1024 * 1024 })
  return join(destination, (JSON.parse(stdout) as { filename: string }[])[0]!.filename)
}

const shippedText = (tarball: string) => execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })
const shipped = (tarball: string) => JSON.parse(shippedText(tarball)) as Manifest

// the watcher restores within ~25 ms of npm's exit; bounded
async function untilRestored(): Promise<void> {
  const deadline = Date.now() + 10_000
  while (existsSync(backup()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
}

function expectSlim(m: Manifest): void {
  expect(m.devDependencies).toBeUndefined()
  expect(m.scripts).toBeUndefined()
  expect(m.allowScripts).toBeUndefined()
  // everything a user's install, resolution (both module systems), type lookup and the bin need, unchanged
  for (const field of ['name', 'version', 'description', 'license', 'keywords', 'type', 'engines', 'main', 'module', 'types', 'exports', 'bin', 'files', 'sideEffects', 'peerDependencies', 'peerDependenciesMeta']) {
    expect(full[field], field).toBeDefined()
    expect(m[field], field).toEqual(full[field])
  }
}

describe.skipIf(!built)('the package.json npm pack ships', { timeout: 120_000 }, () => {
  it('has no devDependencies or scripts, keeps every field users need, and the repo copy is byte-identical afterwards', async () => {
    const tarball = await pack(work)
    const m = shipped(tarball)
    expectSlim(m)
    // every file the exports map, main/module/types and bin name is in the tarball
    const listed = new Set(execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').map((p) => p.replace(/^package\//, './')))
    const targets: string[] = []
    const walk = (v: unknown): void => void (typeof v === 'string' ? targets.push(v) : v && typeof v === 'object' && Object.values(v).forEach(walk))
    walk([m.exports, m.main, m.module, m.types, m.bin])
    expect(targets.length).toBeGreaterThan(20)
    for (const t of targets) expect(listed.has(t), t).toBe(true)
    expect(readFileSync(join(pkgDir, 'package.json'), 'utf8')).toBe(original)
    expect(existsSync(backup())).toBe(false)

    // installed as a user gets it (unpacked into node_modules: the package has no dependencies), both module systems resolve it
    const project = join(work, 'fn')
    mkdirSync(join(project, 'node_modules/scf-graceful'), { recursive: true })
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fn', private: true }))
    execFileSync('tar', ['-xzf', tarball, '--strip-components=1', '-C', join(project, 'node_modules/scf-graceful')])
    const cjs = execFileSync(process.execPath, ['-e', `console.log(typeof require('scf-graceful').graceful, typeof require('scf-graceful/persistence').persist)`], { cwd: project, encoding: 'utf8' })
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', `const m = await import('scf-graceful'); console.log(typeof m.graceful)`], { cwd: project, encoding: 'utf8' })
    expect(cjs.trim().split(' ')[0]).toBe('function')
    expect(esm.trim()).toBe('function')
  })

  it('a pack that fails after prepack (no postpack) still leaves package.json byte-identical', async () => {
    await expect(pack(join(work, 'no/such/dir'))).rejects.toThrow()
    await untilRestored()
    expect(readFileSync(join(pkgDir, 'package.json'), 'utf8')).toBe(original)
    expect(existsSync(backup())).toBe(false)
  })

  it('a pack killed with its watcher is repaired by `restore`; a stale backup never overwrites package.json', async () => {
    const script = join(pkgDir, 'scripts/pack-manifest.mjs')
    const dead = Number(execFileSync(process.execPath, ['-p', 'process.pid'], { encoding: 'utf8' }).trim())
    // what SIGKILL to npm and its watcher leaves: the slim file in place, the backup beside it
    writeFileSync(join(pkgDir, 'package.json'), shippedText(await pack(work)))
    writeFileSync(backup(), JSON.stringify({ owner: dead, packageJson: original }))
    execFileSync(process.execPath, [script, 'restore'], { cwd: pkgDir })
    expect(readFileSync(join(pkgDir, 'package.json'), 'utf8')).toBe(original)
    expect(existsSync(backup())).toBe(false)

    // package.json put back some other way (git checkout, an edit) and an old backup left: the next pack drops the
    // backup and packs what is there; the repo's file is not replaced by the backup's older text
    const older = original.replace(/"version": "[^"]+"/, '"version": "0.0.0-stale"')
    expect(older).not.toBe(original)
    writeFileSync(backup(), JSON.stringify({ owner: dead, packageJson: older }))
    expectSlim(shipped(await pack(work)))
    expect(readFileSync(join(pkgDir, 'package.json'), 'utf8')).toBe(original)
    expect(existsSync(backup())).toBe(false)
  })
})
