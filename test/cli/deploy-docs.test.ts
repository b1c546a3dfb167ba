// The way to production is written down and linked: docs/deploy.md says what SCF needs, and the Serverless example
// says the same in its serverless.yml (the example itself runs in the emulator in package-install.test.ts).
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8')

describe('docs/deploy.md', () => {
  it('exists, is linked from the README and covers code and image deployment, async execution and role keys', () => {
    expect(existsSync(fileURLToPath(new URL('../../docs/deploy.md', import.meta.url)))).toBe(true)
    expect(read('README.md')).toContain('(docs/deploy.md)')
    const doc = read('docs/deploy.md')
    for (const fact of ['index.main_handler', 'CommonJS', 'Nodejs18.15', 'Nodejs16.13', 'node_modules', 'PID 1', 'Port 9000', 'TCR', 'linux/amd64', 'AsyncRunEnable', 'TraceEnable', '6 hours', 'serverless.yml']) {
      expect(doc, fact).toContain(fact)
    }
  })

  it('the Serverless example deploys as the doc says: CommonJS index.js, index.main_handler, async execution and tracing', () => {
    const yml = read('examples/serverless/serverless.yml')
    expect(yml).toMatch(/^\s+handler: index\.main_handler$/m)
    expect(yml).toMatch(/^\s+runtime: Nodejs18\.15$/m)
    expect(yml).toMatch(/^\s+asyncRunEnable: true$/m)
    expect(yml).toMatch(/^\s+traceEnable: true$/m)
    const index = read('examples/serverless/index.js')
    expect(index).toContain("require('scf-graceful')")
    expect(index).toContain('exports.main_handler')
  })
})
