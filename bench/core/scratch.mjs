// Builds bench/.work/core: a project that has scf-graceful installed from `npm pack` (what a user gets from the
// registry) next to the alternatives, copied from this repo's node_modules with their dependencies.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const repoRoot = resolve(here, '../..')
export const workDir = join(repoRoot, 'bench/.work/core')

export const alternatives = ['close-with-grace', 'async-exit-hook', 'exit-hook', 'signal-exit', '@godaddy/terminus']

/** Copies a package and (transitively) its dependencies from the repo's hoisted node_modules. */
function copyWithDeps(name, dest, seen = new Set()) {
  if (seen.has(name)) return
  seen.add(name)
  const from = join(repoRoot, 'node_modules', name)
  if (!existsSync(from)) throw new Error(`bench/core: ${name} is not installed in ${repoRoot}/node_modules (it is a dev dependency: run npm install)`)
  cpSync(from, join(dest, 'node_modules', name), { recursive: true, dereference: true })
  const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'))
  for (const dep of Object.keys(pkg.dependencies ?? {})) copyWithDeps(dep, dest, seen)
}

/**
 * A package with an `exports` map and (almost) nothing in it. Imported first, it pays Node's once-per-process costs
 * that a real function has already paid for its other dependencies: the exports-map resolution path, the first
 * `node:` builtin, and (`warm-cjs`, imported from ESM) the CommonJS-from-ESM translator. As `empty-exports` it is the floor.
 */
function writeDummy(dest, name, { cjsOnly = false, builtin = true } = {}) {
  const dir = join(dest, 'node_modules', name)
  mkdirSync(dir, { recursive: true })
  const exportsMap = cjsOnly ? { '.': './index.cjs' } : { '.': { import: './index.mjs', require: './index.cjs' } }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', exports: exportsMap }))
  if (!cjsOnly) writeFileSync(join(dir, 'index.mjs'), `${builtin ? "import 'node:os'\n" : ''}export const ok = true\n`)
  writeFileSync(join(dir, 'index.cjs'), `${builtin ? "require('node:os')\n" : ''}exports.ok = true\n`)
}

/** Prepares the scratch project and returns its path. Child scripts are copied in so they resolve from it. */
export function prepareScratch({ log = console.error } = {}) {
  // BENCH_PACKAGE_DIR: pack another build of the package (a directory with package.json and dist/) instead of this repo
  const packageDir = process.env.BENCH_PACKAGE_DIR ? resolve(process.env.BENCH_PACKAGE_DIR) : repoRoot
  if (!existsSync(join(packageDir, 'dist/index.js')) || !existsSync(join(packageDir, 'dist/index.cjs'))) {
    throw new Error('bench/core: dist/ is missing; run `npm run build` first (or `npm run bench`, which builds)')
  }
  rmSync(workDir, { recursive: true, force: true })
  mkdirSync(workDir, { recursive: true })
  writeFileSync(join(workDir, 'package.json'), JSON.stringify({ name: 'scf-graceful-core-bench', private: true, version: '0.0.0' }, null, 2))

  // a pack killed together with its watcher leaves the slim package.json in place (scripts/pack-manifest.mjs): put
  // the repo's back first, or npm would run no prepack/postpack and the repo would stay slim
  const manifestScript = join(packageDir, 'scripts/pack-manifest.mjs')
  if (existsSync(manifestScript)) execFileSync(process.execPath, [manifestScript, 'restore'], { cwd: packageDir, stdio: ['ignore', 'ignore', 'inherit'] })
  // the package.json npm ships is the slim one prepack writes (no devDependencies, no scripts): Node parses it on
  // every require of the package, so the bench must measure that one
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', workDir], { cwd: packageDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))
  const tarball = join(workDir, packed[0].filename)
  try {
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', tarball], { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    // the package has no runtime dependencies, so unpacking the tarball is exactly what npm would have done
    log(`bench/core: npm install --offline failed (${String(err.stderr ?? err.message).split('\n')[0]}); unpacking the tarball instead`)
    const dest = join(workDir, 'node_modules/scf-graceful')
    mkdirSync(dest, { recursive: true })
    execFileSync('tar', ['-xzf', tarball, '-C', dest, '--strip-components=1'])
  }
  if (!existsSync(join(workDir, 'node_modules/scf-graceful/package.json'))) throw new Error('bench/core: scf-graceful did not install into the scratch project')

  // BENCH_COMPARE_DIR: another build (e.g. the commit before a change), packed the same way and installed beside
  // it as scf-graceful-compare, so a before/after comparison runs interleaved in one run, under the same load
  let compare
  if (process.env.BENCH_COMPARE_DIR) {
    const compareDir = resolve(process.env.BENCH_COMPARE_DIR)
    const packDir = join(workDir, 'compare')
    mkdirSync(packDir, { recursive: true })
    const other = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: compareDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))
    const dest = join(workDir, 'node_modules/scf-graceful-compare')
    mkdirSync(dest, { recursive: true })
    execFileSync('tar', ['-xzf', join(packDir, other[0].filename), '-C', dest, '--strip-components=1'])
    compare = compareDir
  }

  for (const name of alternatives) copyWithDeps(name, workDir)
  writeDummy(workDir, 'warm-exports')
  writeDummy(workDir, 'warm-cjs', { cjsOnly: true })
  writeDummy(workDir, 'empty-exports', { builtin: false })
  for (const file of readdirSync(join(here, 'children'))) cpSync(join(here, 'children', file), join(workDir, file))
  const version = (name) => JSON.parse(readFileSync(join(workDir, 'node_modules', name, 'package.json'), 'utf8')).version
  return { dir: workDir, tarball: packed[0].filename, size: packed[0].size, unpackedSize: packed[0].unpackedSize, version, compare }
}
