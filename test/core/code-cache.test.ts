// The core's V8 code cache (dist/cache/, made by the build for SCF's runtimes; loaded through dist/load-core.cjs on
// the first call): used on Nodejs16.13 and Nodejs18.15, and every way it can be wrong (V8 flags, a truncated file, a patched
// core.cjs, another build's cache, none, turned off) still loads the core and runs the invocation. On other Nodes
// there is none and the core compiles. The time it saves is in bench/core and BENCHMARKS.md.
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scfRuntimes } from '../../src/scf/runtimes.js'
import { describeOnRuntimes, lastJson, runNode } from '../runtimes/binaries.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))

// a first invocation through the CommonJS entry, as SCF's runtime makes it; prints how the core was loaded
const probe = `
  const m = require('scf-graceful')
  const handler = m.graceful(async (event) => event.n * 2, { logger: false })
  handler({ n: 21 }, { request_id: 'r-1', time_limit_in_ms: 3000, memory_limit_in_mb: 128 }).then((result) => {
    const cached = Object.keys(require.cache).filter((f) => /[\\\\/]core\\.cjs$/.test(f)).length
    let thrown
    try { m.graceful('not a function') } catch (err) { thrown = err }
    console.log(JSON.stringify({ load: m[Symbol.for('scf-graceful.coreLoad')], result, cached, errorClass: thrown instanceof m.ScfGracefulError, code: thrown && thrown.code, patched: thrown.message.includes('MUST be') }))
    m.uninstall()
  })
`
const works = { result: 42, cached: 1, errorClass: true, code: 'SCFG_ERR_INVALID_OPTION', patched: false }

async function run(node: string, cwd: string, flags: string[] = [], env: Record<string, string> = {}) {
  const { code, stdout, stderr } = await runNode(node, [...flags, '-e', probe], { cwd, env })
  expect(code, stderr).toBe(0)
  return lastJson(stdout) as Record<string, unknown>
}

const coreId = async (dir: string) => /CORE_ID="([0-9a-f]{16})"/.exec(await readFile(join(dir, 'dist', 'load-core.cjs'), 'utf8'))?.[1]

describe('the core code cache, on this Node', () => {
  it('the build made one per SCF runtime, named by the core it belongs to, and none for other Nodes', async () => {
    const id = await coreId(repo)
    expect(id).toBeDefined()
    const files = await readdir(join(repo, 'dist', 'cache')).catch(() => [] as string[])
    expect(files.every((f) => f.startsWith(`core-${id}-`) && f.endsWith('.v8'))).toBe(true)
    expect(files.length).toBeLessThanOrEqual(Object.keys(scfRuntimes).length)
    expect(files).not.toContain(`core-${id}-${process.versions.v8}.v8`)
    // the entry knows which V8s have one, so any other Node requires the core without looking for a file
    const listed = JSON.parse(/CACHED_V8=(\[[^\]]*\])/.exec(await readFile(join(repo, 'dist', 'index.cjs'), 'utf8'))![1]!) as string[]
    expect(listed.sort()).toEqual(files.map((f) => f.slice(`core-${id}-`.length, -'.v8'.length)).sort())
  })

  it('without one for its V8, the core is compiled', async () => {
    expect(await run(process.execPath, repo)).toEqual({ load: 'compiled', ...works })
  })

  it('the cache is made with the wrapper dist/load-core.cjs compiles', async () => {
    const wrapper = (src: string) => [/WRAP_HEAD = ('[^']*')/.exec(src)?.[1], /WRAP_TAIL = ('[^']*')/.exec(src)?.[1]]
    const entry = wrapper(await readFile(join(repo, 'src', 'load-core.cjs'), 'utf8'))
    expect(entry.every(Boolean)).toBe(true)
    expect(wrapper(await readFile(join(repo, 'scripts', 'core-cache.cjs'), 'utf8'))).toEqual(entry)
  })
})

// SCF's cold starts are what the cache is for: the build makes one for each runtime it finds (CI installs both)
describeOnRuntimes('the core code cache', (_runtime, node) => {
  let pkg: string
  let cacheFile: string
  beforeAll(async () => {
    // a copy of the built package to damage: package.json (exports map, self-reference) and dist/
    pkg = await mkdtemp(join(tmpdir(), 'scfg-code-cache-'))
    await cp(join(repo, 'package.json'), join(pkg, 'package.json'))
    await cp(join(repo, 'dist'), join(pkg, 'dist'), { recursive: true })
    const v8 = (await runNode(node, ['-p', 'process.versions.v8'])).stdout.trim()
    cacheFile = join(pkg, 'dist', 'cache', `core-${await coreId(pkg)}-${v8}.v8`)
  })
  afterAll(() => rm(pkg, { recursive: true, force: true }))

  it('loads the core from it', async () => {
    expect(await run(node, repo)).toEqual({ load: 'cache', ...works })
  })

  it('SCF_GRACEFUL_CODE_CACHE=0 turns it off', async () => {
    expect(await run(node, repo, [], { SCF_GRACEFUL_CODE_CACHE: '0' })).toEqual({ load: 'compiled', ...works })
  })

  it('under V8 flags it was not made with, V8 refuses it and the core compiles as usual', async () => {
    expect(await run(node, repo, ['--max-semi-space-size=8'])).toEqual({ load: 'rejected', ...works })
  })

  it('a core.cjs patched to the same length runs as patched: the cache, made from the old source, is not used', async () => {
    // V8 checks a cache only against the source's length: without the source check, the old bytecode would run
    const file = join(pkg, 'dist', 'core.cjs')
    const original = await readFile(file, 'utf8')
    // a same-length change in what the probe runs: the message of an invalid option
    const patched = original.replace('must be ${expected}', 'MUST be ${expected}')
    expect(patched).not.toBe(original)
    expect(patched.length).toBe(original.length)
    try {
      await writeFile(file, patched)
      expect(await run(node, pkg)).toEqual({ load: 'stale', ...works, patched: true })
    } finally {
      await writeFile(file, original)
    }
  })

  it('a truncated cache file is not used', async () => {
    const good = await readFile(cacheFile)
    try {
      // cut inside V8's data: V8 refuses it (its length check)
      await writeFile(cacheFile, good.subarray(0, good.length - 1000))
      expect(await run(node, pkg)).toEqual({ load: 'rejected', ...works })
      // cut inside the source copy, and a file too short for its header
      await writeFile(cacheFile, good.subarray(0, 1000))
      expect(await run(node, pkg)).toEqual({ load: 'stale', ...works })
      await writeFile(cacheFile, good.subarray(0, 2))
      expect(await run(node, pkg)).toEqual({ load: 'stale', ...works })
    } finally {
      await writeFile(cacheFile, good)
    }
  })

  it("another build's cache is not read: the core is compiled", async () => {
    const entryFile = join(pkg, 'dist', 'load-core.cjs')
    const entry = await readFile(entryFile, 'utf8')
    try {
      await writeFile(entryFile, entry.replace(/CORE_ID="[0-9a-f]{16}"/, 'CORE_ID="0000000000000000"'))
      expect(await run(node, pkg)).toEqual({ load: 'compiled', ...works })
    } finally {
      await writeFile(entryFile, entry)
    }
  })
})
