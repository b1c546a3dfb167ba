// `npm run demo` (after the build): the script exits 0 and tells the whole story.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const DEMO = fileURLToPath(new URL('../../examples/resumable-job/demo.mjs', import.meta.url))

describe('npm run demo', () => {
  it('exits 0 and shows force -> checkpoint recovery, graceful -> [PLATFORM] line, flush, resume, FINISHED', async () => {
    const data = await mkdtemp(join(tmpdir(), 'scfg-demo-'))
    try {
      const child = spawn(process.execPath, [DEMO], { env: { ...process.env, DEMO_DATA_DIR: data }, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout.on('data', (c: Buffer) => (out += c.toString()))
      child.stderr.on('data', (c: Buffer) => (out += c.toString()))
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
      expect(code, out).toBe(0)
      expect(out).toContain('GetAsyncEventStatus -> ABORTED/499')
      expect(out).toMatch(/no longer exists/)
      expect(out).toMatch(/job A: resuming at item (1[0-9]|[2-9])\/30/)
      expect(out).toContain('[PLATFORM] Signal received successfully.')
      expect(out).toMatch(/persist: flush done/)
      expect(out).toContain('GetAsyncEventStatus -> ABORTED/200')
      expect(out).toContain('GetAsyncEventStatus -> FINISHED/200')
      expect(out).toMatch(/done in \d+\.\d s/)
    } finally {
      await rm(data, { recursive: true, force: true })
    }
  })
})
