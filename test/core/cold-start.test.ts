// What a cold start of a code deployment compiles and touches (issue 15: CommonJS require of the core). Structural
// checks only; the times are in bench/core and BENCHMARKS.md.
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

const root = new URL('../..', import.meta.url)

function run(code: string, type: 'module' | 'commonjs'): string {
  return execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: root, encoding: 'utf8' }).trim()
}

// Reading the `performance` global loads Node's perf_hooks internals (about 2 ms of CPU on Node 20): a first
// invocation must not need it. The getter records any read and still hands out the real object.
const watchPerformance = `
  const realPerformance = globalThis.performance
  globalThis.performanceReads = 0
  Object.defineProperty(globalThis, 'performance', { configurable: true, get() { globalThis.performanceReads++; return realPerformance } })
`
const firstInvocation = `
  const handler = graceful(async (event) => event.n, { logger: false })
  const result = await handler({ n: 7 }, { request_id: 'r-1', time_limit_in_ms: 3000, memory_limit_in_mb: 128 })
`

describe('cold start of a code deployment', () => {
  it('require() compiles only the names; the core loads on the first call', () => {
    const out = run(
      `
      const loaded = () => Object.keys(require.cache).filter((f) => /[\\\\/]dist[\\\\/]/.test(f)).map((f) => f.replace(/^.*[\\\\/]dist[\\\\/]/, ''))
      const m = require('scf-graceful')
      const afterRequire = loaded()
      const handler = m.graceful(async () => 'ok', { logger: false })
      const afterGraceful = loaded()
      handler({}, { request_id: 'r-1' }).then((result) => {
        console.log(JSON.stringify({ afterRequire, afterGraceful, result, names: Object.keys(m).length }))
        m.uninstall()
      })
      `,
      'commonjs',
    )
    const { afterRequire, afterGraceful, result, names } = JSON.parse(out) as { afterRequire: string[]; afterGraceful: string[]; result: string; names: number }
    expect(afterRequire).toEqual(['index.cjs'])
    expect(afterGraceful).toEqual(['index.cjs', 'core.cjs'])
    expect(result).toBe('ok')
    expect(names).toBeGreaterThan(10)
  })

  it('the error classes read through the CommonJS entry are the ones the core throws', () => {
    const out = run(
      `
      const m = require('scf-graceful')
      let thrown
      try { m.graceful('not a function') } catch (err) { thrown = err }
      console.log(JSON.stringify({ isBase: thrown instanceof m.ScfGracefulError, code: thrown.code, sameClass: Object.getPrototypeOf(thrown).constructor === m.ScfGracefulError, codes: Object.keys(m.errorCodes).length > 0 }))
      `,
      'commonjs',
    )
    expect(JSON.parse(out)).toEqual({ isBase: true, code: 'SCFG_ERR_INVALID_OPTION', sameClass: true, codes: true })
  })

  it.each(['commonjs', 'module'] as const)('a first invocation (%s) never reads the performance global', (type) => {
    const load = type === 'commonjs' ? `const { graceful, uninstall } = require('scf-graceful')` : `const { graceful, uninstall } = await import('scf-graceful')`
    const body = `${watchPerformance}\n${load}\n${firstInvocation}\nconsole.log(JSON.stringify({ result, reads: globalThis.performanceReads }))\nuninstall()`
    const code = type === 'commonjs' ? `(async () => {\n${body}\n})()` : body
    expect(JSON.parse(run(code, type))).toEqual({ result: 7, reads: 0 })
  })

  // The first read of the AbortSignal/AbortController globals loads Node's abort_controller internals (≈ 0.35 ms on
  // Node 20, where bootstrap leaves them unloaded): a first invocation whose handler never reads `inv.signal` needs
  // no signal. process.moduleLoadList names every internal module loaded so far.
  it.each(['commonjs', 'module'] as const)('a first invocation (%s) loads no AbortSignal unless the handler reads inv.signal', (type) => {
    const bare = run(`console.log(process.moduleLoadList.includes('NativeModule internal/abort_controller'))`, type)
    if (bare !== 'false') return // this Node loads it at bootstrap (Node 16): nothing to save
    const load = type === 'commonjs' ? `const { graceful, uninstall } = require('scf-graceful')` : `const { graceful, uninstall } = await import('scf-graceful')`
    const loadedAfter = (handler: string) => {
      const body = `${load}\nconst h = graceful(${handler}, { logger: false })\nconst result = await h({ n: 7 }, { request_id: 'r-1', time_limit_in_ms: 3000, memory_limit_in_mb: 128 })\nconsole.log(JSON.stringify({ result, loaded: process.moduleLoadList.includes('NativeModule internal/abort_controller') }))\nuninstall()`
      return JSON.parse(run(type === 'commonjs' ? `(async () => {\n${body}\n})()` : body, type)) as { result: number; loaded: boolean }
    }
    expect(loadedAfter('async (event) => event.n')).toEqual({ result: 7, loaded: false })
    // and the check sees it when a signal is made
    expect(loadedAfter('async (event, context, inv) => (inv.signal.aborted ? 0 : event.n)')).toEqual({ result: 7, loaded: true })
  })
})
