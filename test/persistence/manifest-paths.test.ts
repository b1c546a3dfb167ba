// The path rule every manifest entry passes before a restore writes a byte (checkRelativePath), case by case.
import { describe, expect, it } from 'vitest'
import { checkRelativePath } from '../../src/persistence/manifest.js'

const refused = (p: unknown) => expect(() => checkRelativePath(p)).toThrow(expect.objectContaining({ code: 'SCFG_ERR_MANIFEST_INVALID' }))

describe('checkRelativePath', () => {
  it('takes relative paths of plain segments, dots inside names, and UTF-8 up to the limits', () => {
    for (const p of ['a', 'a/b/c', '.hidden', 'a/.b', 'a/...', 'a/..b', 'a/b..', '.scf-gracefulx', 'x/.scf-graceful', 'é/ü', 'a'.repeat(255), 'é'.repeat(127)]) {
      expect(checkRelativePath(p)).toBe(p)
    }
    // 4096 bytes in all: 17 segments of 240 and 16 slashes
    const long = Array.from({ length: 17 }, () => 'a'.repeat(240)).join('/')
    expect(Buffer.byteLength(long)).toBe(4096)
    expect(checkRelativePath(long)).toBe(long)
  })

  it('refuses empty and dot segments wherever they are', () => {
    for (const p of ['', '.', '..', './a', '../a', 'a/.', 'a/..', 'a/./b', 'a/../b', 'a//b', 'a/', '/a', '//']) refused(p)
  })

  it('refuses absolute paths, NUL, backslashes, the state dir and what is not a string', () => {
    for (const p of ['/etc/passwd', 'C:x', 'c:/x', 'a\0b', 'a\\b', '.scf-graceful', '.scf-graceful/state.json', 42, null, undefined]) refused(p)
  })

  it('counts lengths in UTF-8 bytes: a segment over 255, a path over 4096', () => {
    refused('a'.repeat(256))
    // 86 three-byte characters: 258 bytes in 86 code units
    refused(`x/${'€'.repeat(86)}`)
    refused([...Array.from({ length: 17 }, () => 'a'.repeat(255))].join('/'))
    // 4097 bytes in 1,393 code units: 17 segments of 80 three-byte characters, 16 slashes, one more byte
    refused(`${Array.from({ length: 17 }, () => '€'.repeat(80)).join('/')}a`)
  })
})
