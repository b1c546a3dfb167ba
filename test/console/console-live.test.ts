// The console as a user would live with it, in a real headless Chromium: a URL that survives a restart on the same
// data dir (an open tab reconnects by itself and shows the new state), counts on the status filters, a timeline per
// instance with SIGTERM, force, checkpoint and flush marks, graceful-then-force from the page, and a bulk terminate.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, cleanEnv, until } from '../cli/events-helpers.js'
import { CHROMIUM, CHROMIUM_ARGS, fixture, startLocalAt, type RunningLocal } from './helpers.js'

const artifacts = fileURLToPath(new URL('../.artifacts/', import.meta.url))
const haveChromium = existsSync(CHROMIUM)
if (!haveChromium) {
  if (process.env.CI === 'true') throw new Error(`Chromium is missing at ${CHROMIUM}: CI must install the Debian package "chromium"`)
  console.warn(`\n*** SKIPPING the console browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH) ***\n`)
}

const dirs: string[] = []
const running: RunningLocal[] = []
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'scfg-console-'))
  dirs.push(d)
  return d
}
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()))
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
const start = async (o: Parameters<typeof startLocalAt>[0]) => {
  const l = await startLocalAt(o)
  running.push(l)
  return l
}

async function browser() {
  const { chromium } = await import('playwright-core')
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
}

describe('console token', () => {
  it('is kept in the data dir (mode 0600) and the same after a restart; --console-token pins it', async () => {
    const dir = dataDir()
    const first = await start({ dataDir: dir, functions: { work: fixture('work.cjs') } })
    const file = join(dir, 'console-token')
    expect(readFileSync(file, 'utf8').trim()).toBe(first.token)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    await first.stop()
    const second = await start({ dataDir: dir, functions: { work: fixture('work.cjs') } })
    expect(second.token).toBe(first.token)
    await second.stop()
    const pinned = await start({ dataDir: dir, functions: { work: fixture('work.cjs') }, extra: ['--console-token', 'my-pinned.token_1'] })
    expect(pinned.token).toBe('my-pinned.token_1')
    expect((await fetch(`${pinned.origin}/console/api/functions`, { headers: { 'X-Console-Token': first.token } })).status).toBe(403)
    await pinned.stop()
    const bad = await runCli(['local', '--data-dir', dir, '--function', `work=${fixture('work.cjs')}`, '--console-token', 'short'], cleanEnv(), 30_000)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--console-token')
  }, 90_000)
})

describe.skipIf(!haveChromium)('console in headless Chromium', () => {
  it('an open tab reconnects by itself after a restart on the same data dir and port, and shows the new state', async () => {
    const dir = dataDir()
    const first = await start({ dataDir: dir, functions: { work: fixture('work.cjs') } })
    const b = await browser()
    try {
      const page = await b.newPage({ viewport: { width: 1440, height: 1000 } })
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(first.consoleUrl)
      await page.locator('[data-testid=live]', { hasText: 'live' }).waitFor()
      const before = (await first.api('/invoke', { functionName: 'work', payload: { steps: 100_000 } })).Result.FunctionRequestId as string
      await page.locator(`tr[data-id="${before}"] [data-testid=status]`, { hasText: 'RUNNING' }).waitFor({ timeout: 20_000 })
      // a reload would drop this
      await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true))

      await first.stop()
      await page.locator('[data-testid=live]', { hasText: 'reconnecting' }).waitFor({ timeout: 20_000 })
      const second = await start({ dataDir: dir, port: first.port, functions: { work: fixture('work.cjs') } })
      expect(second.consoleUrl).toBe(first.consoleUrl)

      await page.locator('[data-testid=live]', { hasText: /^live$/ }).waitFor({ timeout: 30_000 })
      // the state changed while the tab was away: the old event ended with the emulator (FAILED/500)
      await page.locator(`tr[data-id="${before}"] [data-testid=status]`, { hasText: 'FAILED' }).waitFor({ timeout: 20_000 })
      const after = (await second.api('/invoke', { functionName: 'work', payload: { steps: 5 } })).Result.FunctionRequestId as string
      await page.locator(`tr[data-id="${after}"]`).waitFor({ timeout: 20_000 })
      await page.locator(`tr[data-id="${after}"] [data-testid=status]`, { hasText: 'FINISHED' }).waitFor({ timeout: 20_000 })
      expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true)
      expect(errors).toEqual([])
    } finally {
      await b.close()
    }
  }, 120_000)

  it('counts per status, bulk terminate, graceful-then-force, and a timeline with SIGTERM, force, checkpoint and flush marks', async () => {
    const local = await start({ dataDir: dataDir(), functions: { work: fixture('work.cjs'), stubborn: fixture('stubborn.cjs'), saver: fixture('saver.cjs') } })
    const b = await browser()
    try {
      const page = await b.newPage({ viewport: { width: 1440, height: 1100 } })
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(local.consoleUrl)
      await page.locator('[data-testid=live]', { hasText: 'live' }).waitFor()
      await page.selectOption('[data-testid=filter-function]', 'default/work')

      // three running events: the RUNNING chip counts them
      const ids: string[] = []
      for (let i = 0; i < 3; i++) ids.push((await local.api('/invoke', { functionName: 'work', payload: { steps: 100_000 } })).Result.FunctionRequestId)
      await page.locator('[data-testid=count-running]', { hasText: /^3$/ }).waitFor({ timeout: 20_000 })
      for (const id of ids) await until(`${id} running its handler`, async () => ((await local.api(`/events/${id}/logs`)).lines.some((l: { line: string }) => l.line.startsWith('working')) ? true : undefined))

      // select two and terminate them gracefully in one go (no escalation)
      await page.locator(`tr[data-id="${ids[0]}"] [data-testid=row-check]`).check()
      await page.locator(`tr[data-id="${ids[1]}"] [data-testid=row-check]`).check()
      await page.locator('[data-testid=bulk-count]', { hasText: '2 selected' }).waitFor()
      await page.click('[data-testid=bulk-grace]')
      const dialog = page.locator('[data-testid=confirm]')
      await dialog.locator('[data-testid=confirm-count]', { hasText: '2 RUNNING events' }).waitFor()
      await dialog.locator('[data-testid=escalate-after]').selectOption('0')
      await dialog.locator('[data-testid=confirm-ok]').click()
      await page.locator('[data-testid=count-aborted]', { hasText: /^2$/ }).waitFor({ timeout: 20_000 })
      await page.locator('[data-testid=count-running]', { hasText: /^1$/ }).waitFor({ timeout: 20_000 })
      for (const id of ids.slice(0, 2)) expect((await local.api(`/events/${id}`)).event).toMatchObject({ status: 'ABORTED', statusCode: 200 })
      expect((await local.api(`/events/${ids[2]}`)).event.status).toBe('RUNNING')
      await page.locator('[data-testid=timeline] [data-testid=mark-sigterm]').first().waitFor({ timeout: 10_000 })

      // graceful, then force: a function that ignores SIGTERM is killed once the chosen wait is over
      await page.selectOption('[data-testid=filter-function]', 'default/stubborn')
      const stubborn = (await local.api('/invoke', { functionName: 'stubborn', payload: {} })).Result.FunctionRequestId as string
      await until('stubborn running', async () => ((await local.api(`/events/${stubborn}/logs`)).lines.some((l: { line: string }) => l.line.includes('busy')) ? true : undefined))
      await page.locator(`tr[data-id="${stubborn}"]`).click()
      const details = page.locator('[data-testid=details]')
      await details.locator('[data-testid=details-terminate-grace]').click()
      await dialog.locator('[data-testid=escalate-after]').selectOption('10000')
      await dialog.locator('[data-testid=confirm-ok]').click()
      await details.locator('[data-testid=escalation]', { hasText: 'Force in' }).waitFor({ timeout: 10_000 })
      await details.locator('[data-testid=status]', { hasText: 'ABORTED' }).waitFor({ timeout: 30_000 })
      await expect.poll(() => details.locator('[data-testid=status-code]').textContent()).toContain('499')
      await page.locator(`[data-testid=timeline] [data-testid=mark-sigterm][data-id="${stubborn}"]`).waitFor({ timeout: 10_000 })
      await page.locator(`[data-testid=timeline] [data-testid=mark-force][data-id="${stubborn}"]`).waitFor({ timeout: 10_000 })

      // a function that saves /tmp: checkpoints while it runs, the flush after SIGTERM
      await page.selectOption('[data-testid=filter-function]', 'default/saver')
      const saver = (await local.api('/invoke', { functionName: 'saver', payload: {} })).Result.FunctionRequestId as string
      await until('two checkpoints', async () => ((await local.api(`/events/${saver}/logs`)).lines.filter((l: { line: string }) => /persist: checkpoint done/.test(l.line)).length >= 2 ? true : undefined), 30_000)
      await local.api('/terminate', { functionName: 'saver', requestId: saver, grace: true })
      await until('the flush', async () => ((await local.api(`/events/${saver}/logs`)).lines.some((l: { line: string }) => /persist: flush done/.test(l.line)) ? true : undefined), 30_000)
      // a running event's bar grows with the clock (never "stable" for a click): wait for the event to end first
      await until('saver ended', async () => ((await local.api(`/events/${saver}`)).event.status !== 'RUNNING' ? true : undefined), 30_000)
      await page.click('text=↻ Refresh')
      const tl = page.locator('[data-testid=timeline]')
      await tl.locator(`[data-testid=mark-checkpoint][data-id="${saver}"]`).first().waitFor({ timeout: 10_000 })
      await tl.locator(`[data-testid=mark-flush][data-id="${saver}"]`).waitFor({ timeout: 10_000 })
      await tl.locator(`[data-testid=mark-sigterm][data-id="${saver}"]`).waitFor({ timeout: 10_000 })
      // at the bar's start: marks (checkpoints) sit on the bar and may cover its middle
      await tl.locator(`[data-testid=timeline-bar][data-id="${saver}"]`).click({ position: { x: 2, y: 8 } })
      await page.locator('[data-testid=details-id]', { hasText: saver }).waitFor()
      await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()))
      mkdirSync(artifacts, { recursive: true })
      await page.screenshot({ path: `${artifacts}console-saver.png`, fullPage: true })

      // the picture: the work function's events (two ABORTED, one still RUNNING) on its timeline
      await page.selectOption('[data-testid=filter-function]', 'default/work')
      await page.locator(`tr[data-id="${ids[2]}"]`).click()
      await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()))
      mkdirSync(artifacts, { recursive: true })
      await page.screenshot({ path: `${artifacts}console-timeline.png`, fullPage: true })
      expect(errors).toEqual([])
    } finally {
      await b.close()
    }
  }, 180_000)
})

describe('console page from source', () => {
  it('bundles the browser modules on the first request when not built (tests and `src/` runs)', async () => {
    const { startLocalServer } = await import('../../src/emulator/server.js')
    const local = await startLocalServer({ port: 0, rateLimit: false, functions: [], consoleToken: 'source-token-1' })
    try {
      const res = await fetch(`${local.url}/console?token=source-token-1`)
      expect(res.status).toBe(200)
      const html = await res.text()
      // the bundle's own strings, inlined under the page's nonce
      expect(html).toMatch(/<script nonce="[^"]+">[\s\S]*SCF local console[\s\S]*<\/script>/)
      expect(html).toContain('per instance')
    } finally {
      await local.close()
    }
  }, 60_000)
})
