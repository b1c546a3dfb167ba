// Helpers for the store tests that run against the real servers started by global.ts.
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { createSnapshotter } from '../../src/persistence/index.js'
import type { SnapshotStore } from '../../src/persistence/store.js'
import type { ServersInfo } from './servers.js'

/**
 * The server info for `kind`, or undefined after a LOUD skip on a dev machine. Under CI=true a missing server is a
 * failing test instead.
 */
export function requireServer<K extends 'redis' | 'ceph'>(kind: K, suite: string): NonNullable<ServersInfo[K]> | undefined {
  const servers = inject('servers')
  const info = servers[kind] as ServersInfo[K]
  if (info) return info as NonNullable<ServersInfo[K]>
  const why = (kind === 'redis' ? servers.redisSkip : servers.cephSkip) ?? 'not started'
  if (process.env.CI === 'true') {
    describe(suite, () => it(`needs ${kind}`, () => { throw new Error(`${kind} is required under CI: ${why}`) }))
  } else {
    console.warn(`\n*** SKIPPING ${suite}: ${kind} is not available (${why}) ***\n`)
    describe.skip(suite, () => it('skipped', () => {}))
  }
  return undefined
}

export async function readAll(body: AsyncIterable<Uint8Array> | undefined): Promise<Buffer | undefined> {
  if (!body) return undefined
  const parts: Buffer[] = []
  for await (const part of body) parts.push(Buffer.from(part))
  return Buffer.concat(parts)
}

/** A temp dir removed when the current test finishes, passed or failed. */
export async function tempDir(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `scfg-${name}-`))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A temp dir (removed after the test) with a few files: small ones, a nested one, and one of `bigBytes` random bytes. */
export async function makeTree(bigBytes = 6 * 1024 * 1024): Promise<string> {
  const root = await tempDir('tree')
  await mkdir(join(root, 'nested/deeper'), { recursive: true })
  await writeFile(join(root, 'a.txt'), 'alpha')
  await writeFile(join(root, 'nested/b.bin'), randomBytes(70_000))
  await writeFile(join(root, 'nested/deeper/c.json'), JSON.stringify({ n: 1 }))
  await writeFile(join(root, 'big.bin'), randomBytes(bigBytes))
  return root
}

/** path -> sha256 of every file under root (what a restore must reproduce), without the engine's own state dir. */
export async function digestTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (dir: string, rel: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!rel && entry.name === '.scf-graceful') continue
      const path = join(dir, entry.name)
      const relPath = rel ? `${rel}/${entry.name}` : entry.name
      if (entry.isDirectory()) await walk(path, relPath)
      else if (entry.isFile()) out[relPath] = createHash('sha256').update(await readFile(path)).digest('hex')
    }
  }
  await walk(root, '')
  return out
}

/** An empty temp dir to restore into (removed after the test). */
export function freshDir(): Promise<string> {
  return tempDir('restore')
}

/**
 * Runs `setup` (which imports the built entry and creates a store) in a fresh Node process whose module resolution
 * throws on `peer`, then `setup` + `operation`: returns both outputs. The first must not touch the peer, the second must.
 */
export function loadPeerProbe(entry: string, peer: string, setup: string, operation: string): { quiet: string; loads: string } {
  const path = join(import.meta.dirname, '../../dist', entry)
  if (!existsSync(path)) throw new Error(`dist/${entry} is missing: run \`npm run build\` first`)
  const resolveHook = `export async function resolve(s, c, next) { if (s === ${JSON.stringify(peer)} || s.startsWith(${JSON.stringify(`${peer}/`)})) throw new Error("PEER LOADED " + s); return next(s, c) }`
  const hook = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(resolveHook)}))`)}`
  const run = (op: string) => {
    const script = `const mod = await import(${JSON.stringify(path)}); ${setup}; ${op}; console.log('NOT LOADED')`
    const out = spawnSync(process.execPath, ['--import', hook, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
    return out.stdout + out.stderr
  }
  return { quiet: run(''), loads: run(operation) }
}

/**
 * The story every remote store must survive: a first snapshot; a bigger change; the server killed as soon as bytes
 * flow; a clear error within the deadline; then, with the server back, the last snapshot restores and the next
 * snapshot succeeds.
 */
export async function expectSurvivesServerKill(store: SnapshotStore, server: { kill(): void; revive(): Promise<void> }): Promise<void> {
  const root = await makeTree(1024 * 1024)
  const snapshotter = createSnapshotter({ store, root, key: 'fn/kill', logger: false })
  await snapshotter.snapshot()
  const before = await digestTree(root)

  // a bigger change, so the kill lands mid-upload
  for (let i = 0; i < 8; i++) await writeFile(join(root, `grow-${i}.bin`), randomBytes(8 * 1024 * 1024))
  let killed = false
  const deadlineMs = 20_000
  const started = Date.now()
  const err = await snapshotter
    .snapshot({
      signal: AbortSignal.timeout(deadlineMs),
      onProgress: (p) => {
        if (!killed && p.bytes > 0) {
          killed = true
          server.kill()
        }
      },
    })
    .catch((e: { code?: string }) => e)
  expect(killed).toBe(true)
  expect(err).toBeInstanceOf(Error)
  expect(['SCFG_ERR_STORE_UNAVAILABLE', 'SCFG_ERR_SNAPSHOT_ABORTED']).toContain((err as { code?: string }).code)
  expect(Date.now() - started).toBeLessThan(deadlineMs + 5000)

  await server.revive()
  const target = await freshDir()
  await createSnapshotter({ store, root: target, key: 'fn/kill', logger: false }).restore()
  expect(await digestTree(target)).toEqual(before)

  expect((await snapshotter.snapshot()).files).toBe(12)
  const target2 = await freshDir()
  await createSnapshotter({ store, root: target2, key: 'fn/kill', logger: false }).restore()
  expect(await digestTree(target2)).toEqual(await digestTree(root))
}
