// The runtime surface on SCF's exact Node.js runtimes (Nodejs16.13, Nodejs18.15): every runtime entry by require()
// and import(), AbortSignal as the docs promise it, SIGTERM with inv.signal.reason, the persistence flush on SIGTERM
// and its restore, runJob. Each runs in a child process on the runtime's own binary; vitest stays on the host's Node.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeOnRuntimes, lastJson, runNode } from './binaries.js'

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const ENTRIES = ['scf-graceful', 'scf-graceful/persistence', 'scf-graceful/stores/fs', 'scf-graceful/stores/redis', 'scf-graceful/stores/s3']

/** Runs a fixture and sends it SIGTERM once it printed `ready`. */
function runUntilReadyThenTerm(node: string, args: string[], env: Record<string, string> = {}) {
  let sent = false
  return runNode(node, args, {
    env,
    onStdout: (out, child) => {
      if (!sent && /^ready$/m.test(out)) {
        sent = true
        child.kill('SIGTERM')
      }
    },
  })
}

describeOnRuntimes('runtime entries', (runtime, node) => {
  let host: { cjs: unknown; esm: unknown; abort: unknown }
  beforeAll(async () => {
    // what the same fixtures print on the host's Node (20+): the runtimes must print the same
    host = {
      cjs: lastJson((await runNode(process.execPath, [fixture('entries.cjs'), ...ENTRIES])).stdout),
      esm: lastJson((await runNode(process.execPath, [fixture('entries.mjs'), ...ENTRIES])).stdout),
      abort: lastJson((await runNode(process.execPath, [fixture('abort-semantics.cjs')])).stdout),
    }
  })

  it('runs on the exact version', async () => {
    const { stdout } = await runNode(node, ['-p', 'process.version'])
    expect(stdout.trim()).toBe(`v${runtime === 'Nodejs16.13' ? '16.13.0' : '18.15.0'}`)
  })

  it('require() loads every runtime entry with the same exports as on the host', async () => {
    const result = await runNode(node, [fixture('entries.cjs'), ...ENTRIES])
    expect(lastJson(result.stdout)).toEqual(host.cjs)
  })

  it('import() loads every runtime entry with the same exports as on the host', async () => {
    const result = await runNode(node, [fixture('entries.mjs'), ...ENTRIES])
    expect(lastJson(result.stdout)).toEqual(host.esm)
  })

  it('AbortSignal reads the same as on the host once the library is loaded (reason, throwIfAborted, AbortSignal.abort)', async () => {
    const result = await runNode(node, [fixture('abort-semantics.cjs')])
    expect(result.stderr).toBe('')
    expect(lastJson(result.stdout)).toEqual(host.abort)
    expect(host.abort).toMatchObject({ reason: 'why', seenInListener: 'why', throwIfAborted: 'why', defaultReason: { name: 'AbortError' } })
  })

  it('SIGTERM aborts inv.signal with a ShutdownError as its reason (inv.signal.reason.reason is "SIGTERM")', async () => {
    const result = await runUntilReadyThenTerm(node, [fixture('signal-reason.cjs')])
    expect(lastJson(result.stdout)).toEqual({ isShutdownError: true, reason: 'SIGTERM', code: 'SCFG_ERR_SHUTDOWN_ABORTED', throwIfStopped: true, throwIfAborted: true, shouldStop: true })
    // the code-deployment wrapper leaves the process to the runtime: it exits on its own once idle, code 0
    expect(result.code).toBe(0)
  })

  it('persistence: /tmp is flushed to the fs store on SIGTERM and restored by the next instance', async () => {
    const base = await mkdtemp(join(tmpdir(), `scfg-rt-persist-`))
    try {
      const store = join(base, 'store')
      const first = await runUntilReadyThenTerm(node, [fixture('persist.cjs'), 'work'], { TMPDIR: join(base, 'tmp1'), STATE_STORE_DIR: store })
      expect(lastJson(first.stdout)).toEqual({ stopped: 'SIGTERM' })
      expect(first.stdout).toMatch(/persist: flush done .*committed=true files=1/)
      // a fresh instance: an empty /tmp
      const second = await runNode(node, [fixture('persist.cjs'), 'read'], { env: { TMPDIR: join(base, 'tmp2'), STATE_STORE_DIR: store } })
      expect(lastJson(second.stdout)).toEqual({ text: `done up to 42 on v${runtime === 'Nodejs16.13' ? '16.13.0' : '18.15.0'}` })
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  })

  it('runJob: the event from SCF_CUSTOM_CONTAINER_EVENT, exit 0 on success', async () => {
    const result = await runNode(node, [fixture('job.cjs')], { env: { SCF_CUSTOM_CONTAINER_EVENT: JSON.stringify({ n: 1 }) } })
    expect(result.stdout).toMatch(/job \{"n":1\} on v1[68]\./)
    expect(result.code).toBe(0)
  })

  it('runJob: SIGTERM stops the job with exit 143 and the reason in inv.signal.reason', async () => {
    const result = await runUntilReadyThenTerm(node, [fixture('job.cjs')], { SCF_CUSTOM_CONTAINER_EVENT: JSON.stringify({ wait: true }) })
    expect(result.stdout).toMatch(/stopping: SIGTERM/)
    expect(result.code).toBe(143)
  })
})

afterAll(() => {})
