// `watch`: when a function's files change, idle instances are replaced (the next event runs the new code) and a
// running event finishes on the old code; the emulator says so with a 'reload' event.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ReloadInfo } from '../../src/emulator/emulator.js'
import type { LocalServer } from '../../src/emulator/server.js'
import { startEmulator, waitForEnd, waitForLog, type ScfClient } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'scfg-watch-'))
const entry = join(dir, 'index.js')
const writeVersion = (version: string) =>
  writeFileSync(
    entry,
    `const { helper } = require('./lib/helper.js')
exports.main_handler = async function main_handler(event) {
  console.log('running ${version}')
  if (event.ms) await new Promise((resolve) => setTimeout(resolve, event.ms))
  return { version: '${version}', helper: helper() }
}
`,
  )
const writeHelper = (text: string) => writeFileSync(join(dir, 'lib', 'helper.js'), `exports.helper = () => '${text}'\n`)

let local: LocalServer
let scf: ScfClient

beforeAll(async () => {
  mkdirSync(join(dir, 'lib'))
  writeHelper('h1')
  writeVersion('v1')
  ;({ local, scf } = await startEmulator({
    watch: true,
    // the data dir inside the function's folder: its writes are not code changes
    dataDir: join(dir, 'events'),
    functions: [
      { name: 'watched', entry, timeoutMs: 30_000 },
      { name: 'watched-sync', entry, asyncRunEnable: false },
    ],
  }))
})
afterAll(async () => {
  await local?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function invoke(event: unknown): Promise<string> {
  return (await scf.Invoke({ FunctionName: 'watched', InvocationType: 'Event', ClientContext: JSON.stringify(event) })).Result.FunctionRequestId
}

const result = (id: string) => JSON.parse(local.emulator.getEvent(id)?.retMsg ?? 'null')

/** Resolves with the next 'reload' of `name` (bounded). */
function nextReload(name: string, timeoutMs = 20_000): Promise<ReloadInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      local.emulator.off('reload', on)
      reject(new Error(`no reload of ${name} within ${timeoutMs} ms`))
    }, timeoutMs)
    const on = (info: ReloadInfo) => {
      if (info.name !== name) return
      clearTimeout(timer)
      local.emulator.off('reload', on)
      resolve(info)
    }
    local.emulator.on('reload', on)
  })
}

describe('watch', () => {
  it('replaces the idle instance: the next event runs the new code', async () => {
    const first = await invoke({})
    await waitForEnd(scf, first)
    expect(result(first)).toEqual({ version: 'v1', helper: 'h1' })
    expect(local.emulator.instanceCount('watched')).toBe(1)

    const reloaded = nextReload('watched')
    writeVersion('v2')
    expect(await reloaded).toMatchObject({ name: 'watched', namespace: 'default', file: 'index.js', idle: 1, busy: 0 })
    const second = await invoke({})
    await waitForEnd(scf, second)
    expect(result(second)).toEqual({ version: 'v2', helper: 'h1' })
  })

  it('a change in a file the entry imports counts too; a running event finishes on the old code', async () => {
    const running = await invoke({ ms: 1500 })
    await waitForLog(local, running, /running v2/)
    const reloaded = nextReload('watched')
    writeHelper('h2')
    expect(await reloaded).toMatchObject({ file: join('lib', 'helper.js'), busy: 1 })
    const next = await invoke({})
    await waitForEnd(scf, next)
    expect(result(next)).toEqual({ version: 'v2', helper: 'h2' })
    await waitForEnd(scf, running)
    // it ran on the instance that had loaded h1, and that instance is not reused
    expect(result(running)).toEqual({ version: 'v2', helper: 'h1' })
    const after = await invoke({})
    await waitForEnd(scf, after)
    expect(result(after)).toEqual({ version: 'v2', helper: 'h2' })
  })

  it('a function without async execution is renewed the same way', async () => {
    expect(JSON.parse((await scf.Invoke({ FunctionName: 'watched-sync', ClientContext: '{}' })).Result.RetMsg)).toMatchObject({ helper: 'h2' })
    const reloaded = nextReload('watched-sync')
    writeHelper('h3')
    await reloaded
    expect(JSON.parse((await scf.Invoke({ FunctionName: 'watched-sync', ClientContext: '{}' })).Result.RetMsg)).toMatchObject({ helper: 'h3' })
  })

  it('writes to the data dir and to dot-folders are not code changes', async () => {
    let reloads = 0
    const count = () => reloads++
    local.emulator.on('reload', count)
    mkdirSync(join(dir, '.cache'), { recursive: true })
    writeFileSync(join(dir, '.cache', 'x'), 'x')
    // events write to the store inside the folder
    await waitForEnd(scf, await invoke({}))
    // a change that does count, as a marker: once it is seen, the earlier writes would have been seen too
    const marker = Promise.all([nextReload('watched'), nextReload('watched-sync')])
    writeHelper('h4')
    await marker
    local.emulator.off('reload', count)
    expect(reloads).toBe(2) // the marker, once per function (both watch the same folder)
  })
})
