// Issue 10 item 3: a pending store operation keeps the process alive until it settles, and every failure of
// `scf-graceful snapshot`, `restore` and a job exits non-zero with a clear message. Real child processes: the bug
// was Node exiting 0 in the middle of a retry backoff or a wait for a prune lock (an unref'd timer).
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSnapshotter } from '../../src/persistence/index.js'
import { fsStore } from '../../src/stores/fs.js'
import { scratch } from '../persistence/helpers.js'
import { faultStore } from '../setup/faults.mjs'
import { freePort } from '../setup/servers.js'
import { distBuilt } from '../setup/built.js'
import { quietPeriod, waitFor } from '../setup/wait.js'

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
const jobFixture = fileURLToPath(new URL('./fixtures/job-dead-s3.mjs', import.meta.url))
const waitingJob = fileURLToPath(new URL('./fixtures/job-waits.mjs', import.meta.url))
const built = distBuilt('test/stores/no-silent-exit.test.ts', 'cli.js')

interface Exited { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function start(args: string[], env: Record<string, string | undefined> = {}) {
  const child = spawn(process.execPath, ['--no-warnings', ...args], {
    env: { ...process.env, CI: '', AWS_ACCESS_KEY_ID: 'AKIADEADSTORE', AWS_SECRET_ACCESS_KEY: 'dead-store-secret-key', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d))
  child.stderr.on('data', (d: Buffer) => (stderr += d))
  const exited = new Promise<Exited>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })))
  return { child, exited, output: () => stdout + stderr }
}

let base: { dir: string; cleanup(): Promise<void> }
let root: string
let deadS3: string
beforeAll(async () => {
  base = await scratch('scfg-no-silent-exit-')
  root = join(base.dir, 'root')
  await mkdir(root, { recursive: true })
  await writeFile(join(root, 'state.json'), '{"n":1}')
  // a port nobody listens on: every connect is refused at once
  deadS3 = `http://127.0.0.1:${await freePort()}`
})
afterAll(async () => { await base?.cleanup() })

describe.skipIf(!built)('a pending store operation keeps the process alive; failures exit non-zero', () => {
  it('scf-graceful snapshot against an S3 endpoint that refuses connections: non-zero exit, the store error on stderr', async () => {
    const { exited } = start([cli, 'snapshot', '--root', root, '--store', `s3://dead-bucket/p?endpoint=${deadS3}`, '--key', 'dead/cli'])
    const r = await exited
    expect(r.code, r.stderr).not.toBe(0)
    expect(r.stderr).toMatch(/^error: s3 \w+ dead-bucket\/p\/.*ECONNREFUSED.*\(SCFG_ERR_STORE_UNAVAILABLE\)$/m)
    expect(r.stdout).toBe('')
  })

  it('scf-graceful restore against an S3 endpoint that refuses connections: non-zero exit, the store error on stderr', async () => {
    const target = join(base.dir, 'restore-target')
    const { exited } = start([cli, 'restore', '--root', target, '--store', `s3://dead-bucket/p?endpoint=${deadS3}`, '--key', 'dead/cli'])
    const r = await exited
    expect(r.code, r.stderr).not.toBe(0)
    expect(r.stderr).toMatch(/^error: s3 \w+ dead-bucket\/p\/.*ECONNREFUSED.*\(SCFG_ERR_STORE_UNAVAILABLE\)$/m)
    expect(existsSync(target) ? await readdir(target) : []).toEqual([])
  })

  it('a snapshot while another process prunes (fs store) waits for the prune lock, then commits: never a silent exit 0', async () => {
    const storeDir = join(base.dir, 'pruned-store')
    // this test process is the pruner: prune writes its lock, then hangs listing leases until we let it go
    const pruner = createSnapshotter({ store: faultStore(fsStore({ dir: storeDir }), [{ op: 'list', key: 'gc/leases', action: 'hang' }]), root, key: 'pruned/key', logger: false })
    const stopPrune = new AbortController()
    const pruning = pruner.prune({ keepLast: 1, signal: stopPrune.signal }).catch((err: unknown) => err)
    const locks = join(storeDir, 'gc', 'locks')
    await waitFor(async () => existsSync(locks) && (await readdir(locks)).length > 0, { what: 'the prune lock', timeoutMs: 20_000 })

    const { child, exited } = start([cli, 'snapshot', '--root', root, '--store', `fs:${storeDir}`, '--key', 'pruned/key', '--quiet'])
    const leases = join(storeDir, 'gc', 'leases')
    await waitFor(async () => existsSync(leases) && (await readdir(leases)).length > 0, { what: "the writer's lease", timeoutMs: 20_000 })
    // the writer took its lease and now waits for the lock; before the fix it exited 0 right here, saying nothing
    let early: unknown
    void exited.then((r) => (early = r))
    await quietPeriod(1500, 'the snapshot child polls the prune lock every 200 ms, but its reads of an fs store leave no trace another process can wait for; the exit of the bug came at the first poll')
    expect(early, 'the snapshot exited while it waited for the prune lock').toBeUndefined()
    expect(child.exitCode).toBeNull()

    stopPrune.abort(new Error('prune done'))
    await pruning
    const r = await exited
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^snapshot \d{13}-[0-9a-f]{12} of .* as "pruned\/key": 1 files/)
    expect(existsSync(join(storeDir, 'snapshots', 'pruned', 'key', '_ref'))).toBe(true)
  })

  it('runJob whose final flush hits a dead store exits 1 with the store error, not 0', async () => {
    const { exited } = start([jobFixture], { DEAD_S3: deadS3, JOB_ROOT: root, JOB_RESTORE: '0', SCF_CUSTOM_CONTAINER_EVENT: '{}' })
    const r = await exited
    const output = r.stdout + r.stderr
    expect(output).toContain('handler ran')
    expect(output).toMatch(/persist: flush failed code=SCFG_ERR_STORE_UNAVAILABLE/)
    expect(output).toMatch(/job state not saved .*code=SCFG_ERR_STORE_UNAVAILABLE/)
    expect(r.code, output).toBe(1)
  })

  it('runJob whose start-up restore hits a dead S3 exits non-zero and says why', async () => {
    const { exited } = start([jobFixture], { DEAD_S3: deadS3, JOB_ROOT: join(base.dir, 'job-restore-root'), JOB_RESTORE: '1', SCF_CUSTOM_CONTAINER_EVENT: '{}' })
    const r = await exited
    const output = r.stdout + r.stderr
    expect(output).toMatch(/restore failed.*SCFG_ERR_STORE_UNAVAILABLE|SCFG_ERR_STORE_UNAVAILABLE.*restore failed/)
    expect(r.code, output).not.toBe(0)
    expect(r.signal).toBeNull()
  })

  it('a job that only waits for its signal runs until its timeout (exit 124), not exit 0 at once', async () => {
    const { exited } = start([waitingJob], { JOB_MODE: 'signal', SCF_TIMEOUT: '2', SCF_CUSTOM_CONTAINER_EVENT: '{}' })
    const r = await exited
    const output = r.stdout + r.stderr
    expect(output).toContain('job saw timeout')
    expect(r.code, output).toBe(124)
  })

  it('a job that ignores its signal is stopped at the deadline after SIGTERM (exit 143), not exit 0 at once', async () => {
    const { child, exited, output } = start([waitingJob], { JOB_MODE: 'forever', SCF_CUSTOM_CONTAINER_EVENT: '{}' })
    await waitFor(() => child.exitCode !== null || output().includes('job waiting'), { what: "the job's 'job waiting' line", timeoutMs: 20_000 })
    // before the fix it had already exited 0 here: nothing kept the loop alive while the handler waited
    expect(child.exitCode).toBeNull()
    child.kill('SIGTERM')
    const r = await exited
    expect(r.stdout + r.stderr).toMatch(/job stopped requestId=\S+ reason=SIGTERM/)
    expect(r.code, r.stdout + r.stderr).toBe(143)
  })
})
