// Issue 14 item 9: tests import one way (DEVELOPERS.md, "Build and test"). Code that runs inside vitest imports the
// package from source by relative path (vitest compiles TypeScript on the fly: no build needed); code that runs in a
// child process (fixtures: the functions a user would write) imports it by name, as a user does, which resolves to
// dist/. The few tests whose subject is the built package are listed below with why.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { codeRuntimeFile } from '../src/harness/code-instance.js'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Tests whose subject is the built package: they may load it by name or from dist/ in the test process. */
const BUILT_PACKAGE_TESTS: Record<string, string> = {
  'test/package.test.ts': 'the published shape: every entry by name through import and require (child processes)',
  'test/core/cold-start.test.ts': 'what require(\'scf-graceful\') compiles and loads on a cold start (child processes)',
  'test/cli/package-install.test.ts': 'the packed tarball installed alone, offline, and its CLI run with npx',
  'test/runtimes/surface.test.ts': 'every runtime entry by name on SCF\'s exact Node.js binaries',
  'test/errors-family.test.ts': 'instanceof across the ESM and the CJS build loaded in one process',
  'test/setup/store-tests.ts': 'loadPeerProbe: a built store entry does not load its peer until used (child processes)',
}

/** Fixtures that may reach into dist/ by path, with why (never into src/). */
const FIXTURE_DIST_PATHS: Record<string, string> = {
  // the CLI is the package's bin, not an export: a job image runs `node node_modules/scf-graceful/dist/cli.js`
  'test/harness-image/fixtures/job-entry.mjs': 'the CLI (dist/cli.js) as a job image runs it',
}

const isFixture = (file: string) => /(^|\/)[a-z-]*fixtures\//.test(file)
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name)
    if (d.isDirectory()) return d.name === 'node_modules' ? [] : walk(path)
    return SOURCE.test(d.name) ? [path] : []
  })
}

/** The module specifiers a file really imports (import/export from, import(), require(), import types), not strings. */
function specifiers(path: string): string[] {
  return ts.preProcessFile(readFileSync(path, 'utf8'), true, true).importedFiles.map((f) => f.fileName)
}

const byName = (spec: string) => spec === 'scf-graceful' || spec.startsWith('scf-graceful/')
/** Where a relative specifier lands in the repository ('src/...', 'dist/...', 'test/...'), or undefined. */
function target(base: string, file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined
  return relative(base, resolve(base, dirname(file), spec)).split(sep).join('/')
}

/** Every import that breaks the rule, as "file: specifier (why)". */
function violations(files: string[], base = root): string[] {
  const out: string[] = []
  for (const file of files) {
    for (const spec of specifiers(join(base, file))) {
      const to = target(base, file, spec)
      if (isFixture(file)) {
        if (to?.startsWith('src/')) out.push(`${file}: ${spec} (a fixture runs in a child process: import the package by name)`)
        else if (to?.startsWith('dist/') && !FIXTURE_DIST_PATHS[file]) out.push(`${file}: ${spec} (a fixture imports the package by name, not dist/ by path)`)
      } else if (!BUILT_PACKAGE_TESTS[file]) {
        if (byName(spec)) out.push(`${file}: ${spec} (in the test process: import from source, ../src/...)`)
        else if (to?.startsWith('dist/')) out.push(`${file}: ${spec} (in the test process: import from source, not dist/)`)
      }
    }
  }
  return out
}

const testFiles = () => walk(join(root, 'test')).map((f) => relative(root, f).split(sep).join('/'))

describe('one import rule for tests', () => {
  it('test code imports the package from source, fixtures import it by name', () => {
    const files = testFiles()
    expect(files.filter(isFixture).length).toBeGreaterThan(20)
    expect(violations(files)).toEqual([])
  })

  it('the check finds a package-name import in a test and a src/ import in a fixture', () => {
    // the scanner on its own evidence: a test that loads the build by name, a fixture that loads source, and a
    // package name inside a string (code for a child process) that is not an import
    const base = mkdtempSync(join(tmpdir(), 'scfg-import-rule-'))
    const write = (name: string, text: string) => {
      mkdirSync(join(base, dirname(name)), { recursive: true })
      writeFileSync(join(base, name), text)
    }
    try {
      write('test/a.test.ts', "import { graceful } from 'scf-graceful'\nimport { x } from '../src/x.js'\nconst s = \"require('scf-graceful/testing')\"\n")
      write('test/area/fixtures/b.cjs', "const { graceful } = require('../../../src/index.ts')\nconst { fsStore } = require('scf-graceful/stores/fs')\n")
      expect(violations(['test/a.test.ts', 'test/area/fixtures/b.cjs'], base)).toEqual([
        'test/a.test.ts: scf-graceful (in the test process: import from source, ../src/...)',
        'test/area/fixtures/b.cjs: ../../../src/index.ts (a fixture runs in a child process: import the package by name)',
      ])
    } finally {
      rmSync(base, { recursive: true, force: true })
    }
  })

  it('every exception exists and is named in DEVELOPERS.md', () => {
    const developers = readFileSync(join(root, 'DEVELOPERS.md'), 'utf8')
    for (const file of [...Object.keys(BUILT_PACKAGE_TESTS), ...Object.keys(FIXTURE_DIST_PATHS)]) {
      expect(existsSync(join(root, file)), file).toBe(true)
      expect(developers, `DEVELOPERS.md names ${file}`).toContain(file)
    }
  })
})

describe('the harness from source runs its code-mode child from the build', () => {
  it('from src/ it resolves the built dist/harness/code-runtime.js', () => {
    const source = new URL('../src/harness/code-instance.ts', import.meta.url).href
    const built = existsSync(join(root, 'dist/harness/code-runtime.js'))
    if (built) expect(codeRuntimeFile(source)).toBe(join(root, 'dist/harness/code-runtime.js'))
    else expect(() => codeRuntimeFile(source)).toThrow(/npm run build/)
  })

  it('with no build, starting a code-mode instance from source fails in the family, telling to build', () => {
    // a source tree with no dist/ next to it (the module URL is all the function looks at)
    const source = new URL('file:///nonexistent-scfg-checkout/src/harness/code-instance.ts').href
    let thrown: unknown
    try {
      codeRuntimeFile(source)
    } catch (err) {
      thrown = err
    }
    expect(thrown).toMatchObject({ name: 'ScfGracefulError', code: 'SCFG_ERR_INSTANCE_START', message: expect.stringContaining('run `npm run build` first') })
    expect((thrown as Error).message).toContain('/nonexistent-scfg-checkout/dist/harness/code-runtime.js')
  })

  it.skipIf(!existsSync(join(root, 'dist/harness/code-runtime.js')))('from the build it is the code-runtime.js next to the bundle', () => {
    const bundle = new URL('../dist/testing.js', import.meta.url).href
    expect(codeRuntimeFile(bundle)).toBe(join(root, 'dist/harness/code-runtime.js'))
  })
})
