// The emulator's web console end to end: `scf-graceful local` in a child process, driven by a real headless Chromium
// (Debian's, through playwright-core; browsers are never downloaded). Also checks the token guard over plain HTTP.
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixture, startLocal, type LocalEmulator } from '../cli/events-helpers.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const artifacts = fileURLToPath(new URL('../.artifacts/', import.meta.url))
const haveChromium = existsSync(CHROMIUM)
if (!haveChromium) {
  if (process.env.CI === 'true') throw new Error(`Chromium is missing at ${CHROMIUM}: CI must install the Debian package "chromium"`)
  console.warn(`\n*** SKIPPING the console browser test: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH) ***\n`)
}

let local: LocalEmulator
beforeAll(async () => {
  // work-sync: without async execution, so a synchronous invoke returns the result
  local = await startLocal({ work: fixture('work.cjs'), 'work-sync': fixture('work.cjs'), stubborn: fixture('stubborn.cjs') }, ['--no-async-run', 'work-sync'])
})
afterAll(async () => {
  await local?.stop()
})

describe('console: the token guards every request', () => {
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${local.url}${path}`, { headers })

  it('refuses the page, the data, the stream and the actions without the token', async () => {
    const page = await get('/console')
    expect(page.status).toBe(401)
    expect(await page.text()).toContain('Token needed')
    expect((await get('/console?token=wrong-token-value')).status).toBe(403)
    expect((await get('/console/api/functions')).status).toBe(401)
    expect((await get('/console/api/functions', { 'X-Console-Token': 'nope-nope-nope' })).status).toBe(403)
    expect((await get('/console/api/stream')).status).toBe(401)
    expect((await get('/console/api/events/x/logs')).status).toBe(401)
    const post = await fetch(`${local.url}/console/api/invoke`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ functionName: 'work' }) })
    expect(post.status).toBe(401)
    const terminate = await fetch(`${local.url}/console/api/terminate?token=bad-token-value`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
    expect(terminate.status).toBe(403)
  })

  it('answers with the token (query, header or bearer), and refuses other origins', async () => {
    const page = await get(`/console?token=${local.token}`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("script-src 'nonce-")
    expect(page.headers.get('referrer-policy')).toBe('no-referrer')
    const fns = await get('/console/api/functions', { 'X-Console-Token': local.token })
    expect(fns.status).toBe(200)
    expect((await fns.json()).functions.map((f: { name: string }) => f.name).sort()).toEqual(['stubborn', 'work', 'work-sync'])
    expect((await get('/console/api/functions', { Authorization: `Bearer ${local.token}` })).status).toBe(200)
    const cross = await fetch(`${local.url}/console/api/invoke`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Console-Token': local.token, Origin: 'http://evil.example' },
      body: JSON.stringify({ functionName: 'work' }),
    })
    expect(cross.status).toBe(403)
    const unknown = await get('/console/api/events/no-such-event/logs', { 'X-Console-Token': local.token })
    expect(unknown.status).toBe(404)
    expect((await unknown.json()).error.code).toBe('ResourceNotFound.AsyncEvent')
  })
})

describe.skipIf(!haveChromium)('console in headless Chromium', () => {
  it('invoke, see RUNNING, terminate gracefully, see ABORTED and the [PLATFORM] line', async () => {
    const { chromium } = await import('playwright-core')
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    try {
      // a browser far from UTC+8: the page must still show SCF's zone, as the API and the CLI do
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, timezoneId: 'America/New_York' })
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))

      // without the token: refused, with a page that says what to do
      const refused = await page.goto(`${local.url}/console`)
      expect(refused?.status()).toBe(401)
      await expect.poll(() => page.textContent('body')).toContain('open the console URL')

      await page.goto(local.consoleUrl)
      await page.locator('[data-testid=live]', { hasText: 'live' }).waitFor()
      await page.selectOption('[data-testid=filter-function]', 'default/work')
      await page.locator('[data-testid=empty]', { hasText: 'No async events for work yet' }).waitFor()

      // invoke an async event from the form
      await page.selectOption('[data-testid=invoke-function]', 'default/work')
      await page.fill('[data-testid=invoke-payload]', '{ "from": "the console" }')
      await page.click('[data-testid=invoke-button]')
      const details = page.locator('[data-testid=details]')
      await details.locator('[data-testid=status]', { hasText: 'RUNNING' }).waitFor({ timeout: 20_000 })
      const id = (await details.locator('[data-testid=details-id]').textContent())?.trim() as string
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
      // one time zone everywhere: the start time is printed in UTC+8 with its zone, whatever the browser's zone
      const started = (await details.locator('dt', { hasText: 'Started' }).locator('xpath=following-sibling::dd[1]').textContent()) ?? ''
      const shown = /(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) UTC\+8/.exec(started)
      expect(shown, started).not.toBeNull()
      const [, y, mo, d, hh, mi, ss] = shown!.map(Number) as number[]
      const startedMs = Date.UTC(y!, mo! - 1, d!, hh!, mi!, ss!) - 8 * 3_600_000
      expect(Math.abs(Date.now() - startedMs)).toBeLessThan(10 * 60_000)
      const row = page.locator(`[data-testid=events-body] tr[data-id="${id}"]`)
      await row.locator('[data-testid=status]', { hasText: 'RUNNING' }).waitFor()
      // the handler is running once its first line is in the live log
      await details.locator('[data-testid=logs]', { hasText: 'working:' }).waitFor({ timeout: 20_000 })
      mkdirSync(artifacts, { recursive: true })
      await page.screenshot({ path: `${artifacts}console-running.png`, fullPage: true })

      // terminate gracefully, through the confirmation
      await details.locator('[data-testid=details-terminate-grace]').click()
      const dialog = page.locator('[data-testid=confirm]')
      await dialog.locator('text=Terminate gracefully?').waitFor()
      await dialog.locator('[data-testid=confirm-ok]').click()

      await details.locator('[data-testid=status]', { hasText: 'ABORTED' }).waitFor({ timeout: 20_000 })
      await row.locator('[data-testid=status]', { hasText: 'ABORTED' }).waitFor({ timeout: 10_000 })
      const logs = details.locator('[data-testid=logs]')
      await logs.locator('text=[PLATFORM] Signal received successfully.').waitFor()
      await logs.locator('text=/stopping after \\d+ steps: SIGTERM/').waitFor()
      expect(await details.locator('[data-testid=status-code]').textContent()).toContain('200')

      // a second event, force-terminated from its row: ABORTED with 499
      await page.click('[data-testid=invoke-button]')
      await details.locator('[data-testid=status]', { hasText: 'RUNNING' }).waitFor({ timeout: 20_000 })
      const id2 = (await details.locator('[data-testid=details-id]').textContent())?.trim() as string
      expect(id2).not.toBe(id)
      await details.locator('[data-testid=logs]', { hasText: 'working:' }).waitFor({ timeout: 20_000 })
      await page.locator(`tr[data-id="${id2}"] [data-testid=terminate-force]`).click()
      await dialog.locator('text=Terminate by force?').waitFor()
      await dialog.locator('[data-testid=confirm-ok]').click()
      await details.locator('[data-testid=status]', { hasText: 'ABORTED' }).waitFor({ timeout: 20_000 })
      await expect.poll(() => details.locator('[data-testid=status-code]').textContent()).toContain('499')

      // back to the gracefully terminated one for the picture
      await page.locator(`tr[data-id="${id}"]`).click()
      await logs.locator('text=[PLATFORM] Signal received successfully.').waitFor()
      // toasts fade on their own; close them so the picture shows the page
      await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()))
      await page.screenshot({ path: `${artifacts}console.png`, fullPage: true })

      // filters: ABORTED shows both, FINISHED none (with its empty state)
      await page.click('.chip-finished')
      await page.locator('[data-testid=empty]', { hasText: 'No events match these filters' }).waitFor()
      await page.click('.chip-finished')
      await page.click('.chip-aborted')
      await expect.poll(() => page.locator('[data-testid=events-body] tr').count()).toBe(2)

      // a synchronous invoke shows its result in the form
      await page.selectOption('[data-testid=invoke-function]', 'default/work-sync')
      await page.check('[data-testid=type-sync]')
      await page.fill('[data-testid=invoke-payload]', '{ "steps": 2 }')
      await page.click('[data-testid=invoke-button]')
      const result = page.locator('[data-testid=invoke-result]')
      await result.locator('text=Returned').waitFor({ timeout: 20_000 })
      expect(await result.textContent()).toContain('"steps": 2')
      // bad JSON is caught before anything is sent
      await page.fill('[data-testid=invoke-payload]', '{ nope')
      await page.locator('#payload-hint', { hasText: 'Not valid JSON' }).waitFor()

      expect(errors).toEqual([])
    } finally {
      await browser.close()
    }
  })
})
