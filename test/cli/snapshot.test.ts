// The snapshot and restore commands, run as the user runs them: `node dist/cli.js ...` in a child process.
import { execFile, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeTree, scratch } from '../persistence/helpers.js'
import { distBuilt } from '../setup/built.js'

const cli = join(dirname(fileURLToPath(import.meta.url)), '../../dist/cli.js')
const built = distBuilt('test/cli/snapshot.test.ts', 'cli.js')

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], { env: { ...process.env, CI: '' } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

let base: { dir: string; cleanup(): Promise<void> }
let root: string
let storeSpec: string
beforeAll(async () => {
  base = await scratch('scfg-cli-')
  root = join(base.dir, 'root')
  await mkdir(join(root, 'sub/empty'), { recursive: true })
  await writeFile(join(root, 'sub/data.bin'), randomBytes(5 * 1024 * 1024 + 7))
  await writeFile(join(root, 'empty'), '')
  storeSpec = `fs:${join(base.dir, 'store')}`
})
afterAll(async () => { await base?.cleanup() })

describe.skipIf(!built)('scf-graceful snapshot / restore', () => {
  it('snapshot then restore round-trips the tree, exit 0', async () => {
    const s = await run('snapshot', '--root', root, '--store', storeSpec, '--key', 'cli/one')
    expect(s.code, s.stderr).toBe(0)
    expect(s.stdout).toMatch(/^snapshot \d{13}-[0-9a-f]{12} of .* as "cli\/one": 2 files/)
    const target = join(base.dir, 'restored')
    const r = await run('restore', '--root', target, '--store', storeSpec, '--key', 'cli/one')
    expect(r.code, r.stderr).toBe(0)
    expect(await describeTree(target)).toEqual(await describeTree(root))
  })

  it('--json prints the result; a second snapshot uploads only what changed; --keep-last prunes; an untouched tree writes nothing', async () => {
    const own = join(base.dir, 'root-json')
    await mkdir(own, { recursive: true })
    await writeFile(join(own, 'a.bin'), randomBytes(300_000))
    await writeFile(join(own, 'b.txt'), 'b')
    const snap = async (...extra: string[]) => {
      const r = await run('snapshot', '--root', own, '--store', storeSpec, '--key', 'cli/json', '--json', ...extra)
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout) as { id: string; committed: boolean; files: number; uploadedBytes: number; unchangedFiles: number; pruned?: { deletedManifests: number } }
    }
    const first = await snap()
    await writeFile(join(own, 'c.txt'), 'added')
    const second = await snap('--keep-last', '1')
    expect(second).toMatchObject({ files: 3, uploadedBytes: 5, unchangedFiles: 2 })
    expect(second.id).not.toBe(first.id)
    expect(second.pruned!.deletedManifests).toBe(1)
    // nothing touched since: the snapshot the ref points at is this one; no manifest is written, so none to prune
    const third = await snap('--keep-last', '1')
    expect(second.committed).toBe(true)
    expect(third).toMatchObject({ id: second.id, committed: false, files: 3, uploadedBytes: 0, unchangedFiles: 3 })
    const plain = await run('snapshot', '--root', own, '--store', storeSpec, '--key', 'cli/json')
    expect(plain.stdout).toMatch(/the tree is that snapshot, nothing written/)
    expect(third.pruned!.deletedManifests).toBe(0)
  })

  it('nothing to restore: exit 3 with the stable code on stderr', async () => {
    const r = await run('restore', '--root', join(base.dir, 'nothing'), '--store', storeSpec, '--key', 'cli/never')
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/^error: .* \(SCFG_ERR_SNAPSHOT_NOT_FOUND\)$/m)
  })

  it('bad arguments: exit 2 and a clear message', async () => {
    const cases: [string[], RegExp][] = [
      [['snapshot', '--root', root], /--store is required.*\(SCFG_ERR_CLI_USAGE\)/],
      [['snapshot', '--root', root, '--store', storeSpec, '--frobnicate'], /Unknown option '--frobnicate'.*\(SCFG_ERR_CLI_USAGE\)/],
      [['snapshot', '--store', 'ftp://x'], /unknown scheme.*\(SCFG_ERR_CLI_USAGE\)/],
      [['snapshot', '--store', 'memory:'], /memory: would be lost.*\(SCFG_ERR_CLI_USAGE\)/],
      [['snapshot', '--store', storeSpec, '--keep-last', 'two'], /--keep-last must be a positive integer.*\(SCFG_ERR_CLI_USAGE\)/],
      [['snapshot', '--store', storeSpec, '--key', '../etc'], /option "key" must be.*\(SCFG_ERR_INVALID_OPTION\)/],
      [['restore', '--store', storeSpec, '--exclude', '*.log'], /snapshot only.*\(SCFG_ERR_CLI_USAGE\)/],
      [['snapshot', 'positional'], /SCFG_ERR_CLI_USAGE/],
    ]
    for (const [args, pattern] of cases) {
      const r = await run(...args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr).toMatch(pattern)
    }
  })

  it('--help prints usage with the exit codes, exit 0', async () => {
    const r = await run('restore', '--help')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/usage: scf-graceful restore/)
    expect(r.stdout).toMatch(/3 nothing to restore/)
  })

  it('a corrupt chunk: exit 1 (failed), the file is not written', async () => {
    const store = join(base.dir, 'store-corrupt')
    await run('snapshot', '--root', root, '--store', `fs:${store}`, '--key', 'c')
    // flip the content of every chunk file
    const shards = await readdir(join(store, 'chunks'))
    for (const shard of shards) for (const name of await readdir(join(store, 'chunks', shard))) await writeFile(join(store, 'chunks', shard, name), 'garbage')
    const target = join(base.dir, 'corrupt-target')
    const r = await run('restore', '--root', target, '--store', `fs:${store}`, '--key', 'c')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/\(SCFG_ERR_CHUNK_CORRUPT\)/)
    const tree = await describeTree(target)
    expect(tree['sub/data.bin']).toBeUndefined()
    expect(Object.keys(tree).filter((p) => p.includes('.scfg-'))).toEqual([])
  })

  it('--store redis://HOST:PORT/DB?prefix=P round-trips through a real redis-server', async () => {
    const hasRedis = spawnSync('redis-server', ['--version']).status === 0
    if (!hasRedis) {
      if (process.env.CI === 'true') throw new Error('redis-server is not installed')
      console.warn('SKIPPED redis store spec check: redis-server is not installed')
      return
    }
    const port = 20000 + Math.floor(Math.random() * 20000)
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] })
    try {
      await new Promise<void>((resolve, reject) => {
        let out = ''
        server.stdout!.on('data', (d: Buffer) => {
          out += d
          if (out.includes('Ready to accept connections')) resolve()
        })
        server.on('exit', () => reject(new Error(`redis-server exited: ${out}`)))
      })
      const spec = `redis://127.0.0.1:${port}/0?prefix=clitest:`
      const s = await run('snapshot', '--root', root, '--store', spec, '--key', 'cli/redis', '--quiet')
      expect(s.code, s.stderr).toBe(0)
      const target = join(base.dir, 'restored-redis')
      const r = await run('restore', '--root', target, '--store', spec, '--key', 'cli/redis', '--quiet')
      expect(r.code, r.stderr).toBe(0)
      expect(await describeTree(target)).toEqual(await describeTree(root))
      const bad = await run('restore', '--root', target, '--store', `redis://127.0.0.1:${port}/0?prefix=other:`, '--key', 'cli/redis')
      expect(bad.code).toBe(3)
    } finally {
      server.kill('SIGKILL')
    }
  })

  it('on a TTY it draws its own progress bar (MiB, files, a rate); piped, it prints plain lines', () => {
    const hasScript = spawnSync('script', ['--version']).status === 0
    if (!hasScript) {
      console.warn('SKIPPED TTY progress check: `script` (util-linux) is not installed')
      return
    }
    const cmd = `${process.execPath} ${cli} snapshot --root ${root} --store fs:${join(base.dir, 'store-tty')} --key tty`
    const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' })
    expect(tty.status).toBe(0)
    expect(tty.stdout).toMatch(/snapshot \[[#.]{24}\] \d+% \d+\.\d\/5\.0 MiB · \d+\.\d [KMG]iB\/s.* · \d\/2 files/)
    const piped = spawnSync(process.execPath, [cli, 'snapshot', '--root', root, '--store', `fs:${join(base.dir, 'store-pipe')}`, '--key', 'p'], { encoding: 'utf8' })
    expect(piped.status).toBe(0)
    expect(piped.stderr).not.toMatch(/\u001b\[/)
    expect(piped.stderr).toMatch(/^snapshot: 100% 5\.0\/5\.0 MiB · \d+\.\d [KMG]iB\/s · 2\/2 files$/m)
  })
})
