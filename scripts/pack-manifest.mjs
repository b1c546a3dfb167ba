#!/usr/bin/env node
// The package.json `npm pack` / `npm publish` ship: the repo's, without devDependencies, scripts and the like.
// Why: Node parses the package root's package.json to resolve the `exports` map on every cold start's
// require('scf-graceful'), and the development fields were about a third of that cost (BENCHMARKS.md, core).
//
//   prepack:  node scripts/pack-manifest.mjs slim     saves package.json, writes the slim one
//   postpack: node scripts/pack-manifest.mjs restore  puts the saved one back, byte for byte
//
// npm reads the tarball's package.json from disk between the two (libnpmpack: prepack, pacote.tarball, write the
// .tgz, postpack). A pack that fails after prepack (an unwritable --pack-destination, Ctrl-C) never runs postpack,
// so `slim` also leaves a watcher (a detached process, its own process group) that restores the saved file once
// the npm process that packs is gone. Should the watcher die too (SIGKILL, a crash), package.json stays the slim
// one, which has no scripts, so npm runs no prepack to notice: `node scripts/pack-manifest.mjs restore` repairs it
// (bench/core does so before it packs). Restoring writes only over the slim file this script wrote; a backup
// found beside any other package.json is stale and dropped. Zero dependencies, nothing on stdout (npm copies
// lifecycle output into `npm pack --json`'s stdout).
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readlinkSync, realpathSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// the package being packed: npm runs lifecycle scripts in its root
const root = process.cwd()
const manifestPath = join(root, 'package.json')
const backupPath = join(root, '.package.json.pack-backup')

// what a user's install, resolution, type lookup and npm's registry page need; everything else stays in the repo
const keptFields = [
  'name', 'version', 'description', 'keywords', 'homepage', 'bugs', 'license', 'author', 'contributors', 'funding',
  'repository', 'type', 'engines', 'os', 'cpu', 'main', 'module', 'types', 'typings', 'exports', 'imports', 'bin',
  'man', 'directories', 'files', 'sideEffects', 'dependencies', 'optionalDependencies', 'bundleDependencies',
  'peerDependencies', 'peerDependenciesMeta', 'publishConfig',
]

/** The shipped manifest: the kept fields in the repo's order and formatting (two-space JSON, final newline). */
function slimManifest(text) {
  const full = JSON.parse(text)
  const slim = {}
  for (const key of Object.keys(full)) if (keptFields.includes(key)) slim[key] = full[key]
  return `${JSON.stringify(slim, null, 2)}\n`
}

// temp + rename: package.json is always either the old or the new file, never half of one
function writeAtomic(path, text) {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, text)
  renameSync(tmp, path)
}

function readBackup() {
  try {
    return JSON.parse(readFileSync(backupPath, 'utf8'))
  } catch (err) {
    if (err.code === 'ENOENT') return undefined
    throw new Error(`${backupPath} is unreadable (${err.message}): put the repo's package.json back by hand from git`, { cause: err })
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

/**
 * Puts the saved package.json back (with `owner`, only the backup that npm process took). Only over the slim file
 * this script wrote: a package.json changed since (put back from git, edited) is kept and the stale backup dropped.
 */
function restore(owner) {
  const backup = readBackup()
  if (!backup || (owner !== undefined && backup.owner !== owner)) return false
  let current
  try {
    current = readFileSync(manifestPath, 'utf8')
  } catch (err) {
    if (err.code !== 'ENOENT') throw err
  }
  const ours = current === undefined || current === slimManifest(backup.packageJson)
  if (ours) writeAtomic(manifestPath, backup.packageJson)
  else process.stderr.write(`pack-manifest: package.json changed since the pack saved it; kept it, dropped the stale ${backupPath}\n`)
  try {
    unlinkSync(backupPath)
  } catch (err) {
    // postpack and the watcher may both restore (the same bytes); the second finds the backup gone
    if (err.code !== 'ENOENT') throw err
  }
  return ours
}

// The npm process running this lifecycle script: the nearest ancestor running the Node binary npm runs on (npm
// starts scripts through `sh -c`, which may or may not stay in between). Linux only (/proc); elsewhere undefined:
// no watcher, so a pack that fails after prepack leaves the slim file for `restore` (see the top of this file).
function npmPid() {
  if (!existsSync('/proc/self/stat')) return undefined
  let node
  try {
    node = realpathSync(process.env.npm_node_execpath || process.execPath)
  } catch {
    return undefined
  }
  let pid = process.ppid
  for (let depth = 0; depth < 4 && pid > 1; depth++) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`) === node) return pid
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    } catch {
      return undefined
    }
  }
  return undefined
}

function slim() {
  const leftover = readBackup()
  if (leftover) {
    if (leftover.owner && leftover.owner !== npmPid() && isAlive(leftover.owner)) {
      throw new Error(`another npm pack (pid ${leftover.owner}) is packing ${root}; wait for it to finish`)
    }
    // an interrupted pack whose watcher died too: its package.json first (if it is still the slim one), then the usual
    if (restore()) process.stderr.write(`pack-manifest: restored package.json from ${backupPath}, left by an interrupted pack\n`)
  }
  const text = readFileSync(manifestPath, 'utf8')
  const owner = npmPid()
  writeAtomic(backupPath, JSON.stringify({ owner, packageJson: text }))
  try {
    writeAtomic(manifestPath, slimManifest(text))
  } catch (err) {
    restore()
    throw err
  }
  if (owner !== undefined) {
    // stdio ignored and detached: npm waits for the script's stdio to close, so the watcher must hold none of it
    spawn(process.execPath, [fileURLToPath(import.meta.url), 'watch', String(owner)], { cwd: root, detached: true, stdio: 'ignore' }).unref()
  }
}

// Restores once the npm process is gone without having run postpack; leaves as soon as postpack restored (or a
// later pack took the backup over). Bounded: an hour at most, then it restores anyway.
function watch(owner) {
  const until = Date.now() + 3_600_000
  const tick = () => {
    const backup = readBackup()
    if (!backup || backup.owner !== owner) return
    if (!isAlive(owner) || Date.now() > until) {
      restore(owner)
      return
    }
    setTimeout(tick, 25)
  }
  tick()
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [command, arg] = process.argv.slice(2)
  if (command === 'slim') slim()
  else if (command === 'restore') restore()
  else if (command === 'watch') watch(Number(arg))
  else {
    process.stderr.write('usage: node scripts/pack-manifest.mjs slim|restore\n')
    process.exitCode = 2
  }
}
