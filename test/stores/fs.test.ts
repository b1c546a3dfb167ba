import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fsStore } from '../../src/stores/fs.js'
import { describeStoreConformance } from './conformance.js'

describeStoreConformance('fs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'scfg-fs-store-'))
  return { store: fsStore({ dir }), cleanup: () => rm(dir, { recursive: true, force: true }) }
})

describe('fsStore specifics', () => {
  it('rejects a bad dir option', () => {
    expect(() => fsStore({ dir: '' })).toThrow(expect.objectContaining({ code: 'SCFG_ERR_INVALID_OPTION' }))
    expect(() => fsStore(undefined as never)).toThrow(expect.objectContaining({ code: 'SCFG_ERR_INVALID_OPTION' }))
  })

  it('leaves no temp files behind and exposes its localDir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scfg-fs-store-'))
    try {
      const store = fsStore({ dir })
      expect(store.localDir).toBe(dir)
      await store.put('a/b', Buffer.from('x'))
      await store.put('a/b', (async function* () { yield Buffer.from('y') })())
      expect(await readdir(join(dir, '.scfg-tmp'))).toEqual([])
      await expect(store.put('.scfg-tmp/x', Buffer.from('x'))).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_KEY_INVALID' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('fsStore chunk directories', () => {
  it('makes a directory removed behind its back again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scfg-fs-store-'))
    try {
      const store = fsStore({ dir })
      await store.put('chunks/ab/one', Buffer.from('1'))
      await rm(join(dir, 'chunks', 'ab'), { recursive: true })
      await store.put('chunks/ab/two', Buffer.from('2'))
      expect(await readdir(join(dir, 'chunks', 'ab'))).toEqual(['two'])
      expect(await readdir(join(dir, '.scfg-tmp'))).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
