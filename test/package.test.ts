// The built package, loaded by name the way users load it, from both module systems.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown>; dependencies?: Record<string, string> }
const entries = Object.keys(pkg.exports).filter((e) => e !== './package.json').map((e) => (e === '.' ? 'scf-graceful' : `scf-graceful/${e.slice(2)}`))

function run(code: string, type: 'module' | 'commonjs'): string {
  return execFileSync(process.execPath, [type === 'module' ? '--input-type=module' : '--input-type=commonjs', '-e', code], { cwd: new URL('..', import.meta.url), encoding: 'utf8' })
}

describe('published shape', () => {
  it.each(entries)('%s loads through import and require with the same export names', (name) => {
    const esm = JSON.parse(run(`const m = await import(${JSON.stringify(name)}); console.log(JSON.stringify(Object.keys(m).sort()))`, 'module')) as string[]
    const cjs = JSON.parse(run(`const m = require(${JSON.stringify(name)}); console.log(JSON.stringify(Object.keys(m).sort()))`, 'commonjs')) as string[]
    expect(esm.length).toBeGreaterThan(0)
    expect(cjs).toEqual(esm)
  })

  it('the core has zero runtime dependencies and loads no optional peer (ESM and CJS)', () => {
    expect(pkg.dependencies ?? {}).toEqual({})
    const cjs = run(`require('scf-graceful'); console.log(Object.keys(require.cache).filter((f) => f.includes('node_modules')).join(','))`, 'commonjs')
    expect(cjs.trim()).toBe('')
    // ESM: a resolve hook that refuses every optional peer; importing the core must not need one
    const hook = `export async function resolve(s, c, next) { if (/^(express|ioredis|better-sqlite3|tencentcloud-sdk|@aws-sdk|cli-progress)/.test(s)) throw new Error('peer loaded: ' + s); return next(s, c) }`
    const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`
    const out = execFileSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', `await import('scf-graceful'); console.log('ok')`], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
    })
    expect(out.trim()).toBe('ok')
    // and the hook really refuses: a store entry that needs a peer on import would fail here
    expect(() => execFileSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', `await import('express')`], { stdio: 'pipe' })).toThrow(/peer loaded: express/)
  })

  it('the bin prints usage and exits 2 without a command', () => {
    let status = 0
    let out = ''
    try {
      execFileSync(process.execPath, ['dist/cli.js'], { cwd: new URL('..', import.meta.url), encoding: 'utf8' })
    } catch (err) {
      status = (err as { status: number }).status
      out = (err as { stdout: string }).stdout
    }
    expect(status).toBe(2)
    expect(out).toMatch(/usage: scf-graceful <command>/)
  })
})
