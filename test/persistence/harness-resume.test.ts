// The whole story under the harness: a function instance (real child process) is SIGTERMed mid-job, stops, its
// tmp dir is flushed to the store, the instance is recycled (tmp wiped), and a new instance restores and resumes.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { scratch } from './helpers.js'
import { waitFor } from '../setup/wait.js'
import { distBuilt } from '../setup/built.js'

const here = dirname(fileURLToPath(import.meta.url))
// the harness runs from source; its code-mode child runs dist/harness/code-runtime.js and the fixture imports 'scf-graceful'
const built = distBuilt('test/persistence/harness-resume.test.ts', 'harness/code-runtime.js', 'index.js')

type Instance = Awaited<ReturnType<typeof import('../../src/testing/index.js').startFunction>>
const started: Instance[] = []
let base: { dir: string; cleanup(): Promise<void> }
beforeAll(async () => { base = await scratch('scfg-resume-') })
afterEach(async () => { await Promise.all(started.splice(0).map((fn) => fn.stop())) })
afterAll(async () => { await base.cleanup() })

describe.skipIf(!built)('persistence under the harness', () => {
  it('SIGTERM -> the handler stops -> /tmp is flushed -> a new instance restores and resumes', async () => {
    const { startFunction } = await import('../../src/testing/index.js')
    const entry = join(here, 'fixtures/resumable.cjs')
    const env = { STATE_STORE_DIR: join(base.dir, 'store') }
    const first = await startFunction({ entry, env, timeoutMs: 60_000 })
    started.push(first)
    const pending = first.invoke({ total: 100_000 })
    const progress = join(first.tmpDir, 'progress.json')
    const readDone = () => {
      try {
        return (JSON.parse(readFileSync(progress, 'utf8')) as { done: number }).done
      } catch {
        return 0
      }
    }
    // one read per poll, kept: the job rewrites the file every 10 ms, so a second read can land on a half-written file
    let seen = 0
    await waitFor(() => (seen = Math.max(seen, readDone())) >= 20, { what: () => `20 steps done (saw ${seen})`, timeoutMs: 10_000, intervalMs: 20 })

    first.signal('SIGTERM')
    const stopped = (await pending) as { stopped: boolean; done: number }
    expect(stopped.stopped).toBe(true)
    expect(stopped.done).toBeGreaterThanOrEqual(20)
    // the result comes back only after the shutdown cycle, flush included
    expect(first.logs.some((l) => /persist: flush done .*files=1/.test(l.line))).toBe(true)
    // SCF recycles the instance: its /tmp is gone
    await first.terminate({ grace: false })
    expect(existsSync(first.tmpDir)).toBe(false)

    const second = await startFunction({ entry, env, timeoutMs: 60_000 })
    started.push(second)
    const resumed = (await second.invoke({ total: stopped.done + 5 })) as { finished: boolean; done: number; resumedFrom: number }
    expect(resumed).toEqual({ finished: true, done: stopped.done + 5, resumedFrom: stopped.done })
    expect(second.logs.some((l) => /persist: restore done .*files=1/.test(l.line))).toBe(true)
  }, 120_000)
})
