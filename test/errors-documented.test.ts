import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { errorCodes } from '../src/errors.js'

describe('error codes', () => {
  // The error table lives in docs/errors.md (the README links to it).
  const table = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  it.each(Object.keys(errorCodes))('%s is in the error table of docs/errors.md', (code) => {
    expect(table).toMatch(new RegExp(`^\\| \`${code}\` \\|`, 'm'))
  })
  it('documents no code that src/errors.ts does not have (the table runs both ways)', () => {
    const documented = [...table.matchAll(/^\| `(SCFG_ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1])
    expect(documented.length).toBeGreaterThan(0)
    expect(documented.filter((code) => !Object.hasOwn(errorCodes, code!))).toEqual([])
    expect(new Set(documented).size, 'a code is documented twice').toBe(documented.length)
  })
  it('follows SCFG_ERR_<AREA>_<WHAT>', () => {
    for (const code of Object.keys(errorCodes)) expect(code).toMatch(/^SCFG_ERR_[A-Z0-9]+(_[A-Z0-9]+)+$/)
  })
})
