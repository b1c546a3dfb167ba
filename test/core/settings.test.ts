// Process-level settings (graceMs, logger, exitAfterShutdown) are set once; adapters leave the cycle when they stop.
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { fixture } from './helpers.js'

function run(entry: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture(entry)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d))
    child.stderr.on('data', (d: Buffer) => (output += d))
    const bound = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${entry} did not exit within 20 s:\n${output}`))
    }, 20_000)
    child.once('close', (code) => {
      clearTimeout(bound)
      resolve({ code, output })
    })
  })
}

describe('process-level settings', () => {
  it('are set once: a second handler with another graceMs gets a warning and the first value stays', async () => {
    const { code, output } = await run('settings.mjs')
    expect(output).toContain('graceMs=4000 from graceful() ignored: this process already uses graceMs=1500 from graceful() (process-level settings are set once)')
    expect(output).toMatch(/shutdown reason=manual state=stopping .*graceMs=1500/)
    // per-handler options are no process-level setting: no warning for them
    expect(output).not.toMatch(/timeoutMarginMs.*ignored/)
    expect(code).toBe(0)
  })

  it("an adapter that stopped leaves the cycle: runJob's flush does not run again in a later cycle", async () => {
    const { code, output } = await run('job-then-cycle.mjs')
    expect(output).toContain('job code 0')
    expect(output).toContain('second cycle over')
    expect(output.match(/persist: flush start/g)).toHaveLength(1)
    expect(code).toBe(0)
  })
})
