import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { errorCodes } from '../src/errors.js'

describe('error codes', () => {
  // The error table lives in docs/errors.md (the README links to it).
  const table = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  it.each(Object.keys(errorCodes))('%s is in the error table of docs/errors.md', (code) => {
    expect(table).toMatch(new RegExp(`^\\| \`${code}\` \\|`, 'm'))
  })
  it('follows SCFG_ERR_<AREA>_<WHAT>', () => {
    for (const code of Object.keys(errorCodes)) expect(code).toMatch(/^SCFG_ERR_[A-Z0-9]+(_[A-Z0-9]+)+$/)
  })
})
