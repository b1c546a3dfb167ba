// The one suite every SnapshotStore must pass. Store-agnostic: it only uses the contract in
// src/persistence/store.ts. Call it from a store's test file:
//   describeStoreConformance('fs', async () => ({ store: fsStore({ dir }), cleanup: () => rm(dir, ...) }))
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SnapshotStore } from '../../src/persistence/store.js'

export interface StoreUnderTest {
  store: SnapshotStore
  cleanup(): Promise<void>
}

async function readAll(body: AsyncIterable<Uint8Array> | undefined): Promise<Buffer | undefined> {
  if (!body) return undefined
  const parts: Buffer[] = []
  for await (const part of body) parts.push(Buffer.from(part))
  return Buffer.concat(parts)
}

async function listAll(store: SnapshotStore, prefix: string): Promise<string[]> {
  const keys: string[] = []
  for await (const key of store.list(prefix)) keys.push(key)
  return keys.sort()
}

/** A deterministic stream of `total` bytes in 64 KiB parts, hashed as it goes (never held whole by the test). */
function patternStream(total: number, seed: number): { body: AsyncIterable<Uint8Array>; digest: () => string } {
  const hash = createHash('sha256')
  let digest = ''
  const body = (async function* () {
    let sent = 0
    let n = seed
    while (sent < total) {
      const len = Math.min(65536, total - sent)
      const part = Buffer.allocUnsafe(len)
      for (let i = 0; i < len; i++) part[i] = (n = (n * 1103515245 + 12345) & 0x7fffffff) >>> 16
      hash.update(part)
      sent += len
      yield part
    }
    digest = hash.digest('hex')
  })()
  return { body, digest: () => digest }
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code })
}

export function describeStoreConformance(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`SnapshotStore conformance: ${name}`, () => {
    let sut: StoreUnderTest
    let store: SnapshotStore
    // every test works under its own prefix so a shared server (redis, s3) needs no flushing between tests
    const ns = `conf-${randomBytes(4).toString('hex')}`
    let n = 0
    const k = (suffix: string) => `${ns}/${n}/${suffix}`

    beforeAll(async () => {
      sut = await makeStore()
      store = sut.store
    })
    afterAll(async () => {
      await store?.close?.()
      await sut?.cleanup()
    })
    const test = (title: string, fn: () => Promise<void>, timeout?: number) =>
      it(title, async () => {
        n++
        await fn()
      }, timeout)

    test('has a short kind name', async () => {
      expect(typeof store.kind).toBe('string')
      expect(store.kind.length).toBeGreaterThan(0)
    })

    test('put bytes, get them back, has() turns true', async () => {
      expect(await store.has(k('a'))).toBe(false)
      await store.put(k('a'), Buffer.from('hello'))
      expect(await store.has(k('a'))).toBe(true)
      expect((await readAll(await store.get(k('a'))))?.toString()).toBe('hello')
    })

    test('missing keys: get is undefined, has is false, delete is a no-op', async () => {
      expect(await store.get(k('nope'))).toBeUndefined()
      expect(await store.has(k('nope'))).toBe(false)
      await store.delete(k('nope'))
      await store.delete([k('nope1'), k('nope2')])
    })

    test('binary-safe: all 256 byte values, NUL and invalid UTF-8 survive', async () => {
      const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from([0xff, 0xfe, 0, 0, 0xc3, 0x28]), randomBytes(4096)])
      await store.put(k('bin'), bytes)
      expect((await readAll(await store.get(k('bin'))))!.equals(bytes)).toBe(true)
    })

    test('empty value', async () => {
      await store.put(k('empty'), new Uint8Array(0))
      expect(await store.has(k('empty'))).toBe(true)
      expect((await readAll(await store.get(k('empty'))))!.length).toBe(0)
    })

    test('readInto, when the store offers it, agrees with get (value, size, missing, too big)', async () => {
      if (!store.readInto) return
      const bytes = randomBytes(70_000)
      await store.put(k('ri'), bytes)
      const into = Buffer.alloc(80_000)
      expect(await store.readInto(k('ri'), into)).toBe(bytes.length)
      expect(into.subarray(0, bytes.length).equals(bytes)).toBe(true)
      expect(await store.readInto(k('ri-missing'), into)).toBeUndefined()
      const small = Buffer.alloc(10)
      expect(await store.readInto(k('ri'), small)).toBeGreaterThan(small.length)
      await store.put(k('ri-empty'), new Uint8Array(0))
      expect(await store.readInto(k('ri-empty'), into)).toBe(0)
    })

    test('a streamed body (async iterable) is stored whole', async () => {
      const parts = [Buffer.from('ab'), Buffer.from(''), Buffer.from('cdef'), randomBytes(100_000)]
      await store.put(k('stream'), (async function* () { yield* parts })())
      expect((await readAll(await store.get(k('stream'))))!.equals(Buffer.concat(parts))).toBe(true)
    })

    test('9 MiB streamed in and streamed out, byte-identical', async () => {
      const size = 9 * 1024 * 1024
      const src = patternStream(size, 42)
      await store.put(k('big'), src.body, { size })
      const out = await store.get(k('big'))
      expect(out).toBeDefined()
      const hash = createHash('sha256')
      let got = 0
      let parts = 0
      for await (const part of out!) {
        hash.update(part)
        got += part.byteLength
        parts++
      }
      expect(got).toBe(size)
      expect(hash.digest('hex')).toBe(src.digest())
      // streamed out means more than one piece, not one 9 MiB buffer
      expect(parts).toBeGreaterThan(1)
    }, 120_000)

    test('overwrite replaces the whole value', async () => {
      await store.put(k('o'), randomBytes(200_000))
      await store.put(k('o'), Buffer.from('short'))
      expect((await readAll(await store.get(k('o'))))!.toString()).toBe('short')
    })

    test('overwrite is atomic: concurrent readers see the old or the new value, never a mix', async () => {
      const a = Buffer.alloc(512 * 1024, 'a')
      const b = Buffer.alloc(300 * 1024, 'b')
      await store.put(k('atomic'), a)
      const seen = new Set<string>()
      let writing = true
      const writer = (async () => {
        for (let i = 0; i < 10; i++) await store.put(k('atomic'), i % 2 ? a : b)
        writing = false
      })()
      const reader = (async () => {
        while (writing) {
          const got = await readAll(await store.get(k('atomic')))
          if (!got) throw new Error('value vanished during an overwrite')
          if (got.equals(a)) seen.add('a')
          else if (got.equals(b)) seen.add('b')
          else throw new Error(`torn read: ${got.length} bytes`)
        }
      })()
      await Promise.all([writer, reader])
      expect(seen.size).toBeGreaterThan(0)
    }, 60_000)

    test('list by prefix: nested keys, partial segments, nothing outside the prefix', async () => {
      const keys = [k('l/x'), k('l/y/z'), k('l/y/w'), k('lz'), k('m')]
      for (const key of keys) await store.put(key, Buffer.from(key))
      expect(await listAll(store, k('l/'))).toEqual([k('l/x'), k('l/y/w'), k('l/y/z')])
      expect(await listAll(store, k('l'))).toEqual([k('l/x'), k('l/y/w'), k('l/y/z'), k('lz')])
      expect(await listAll(store, k('l/y/'))).toEqual([k('l/y/w'), k('l/y/z')])
      expect(await listAll(store, k('nothing/'))).toEqual([])
    })

    test('delete one key and many keys', async () => {
      await store.put(k('d1'), Buffer.from('1'))
      await store.put(k('d2'), Buffer.from('2'))
      await store.put(k('d3'), Buffer.from('3'))
      await store.delete(k('d1'))
      expect(await store.has(k('d1'))).toBe(false)
      await store.delete([k('d2'), k('d3'), k('never')])
      expect(await listAll(store, k('d'))).toEqual([])
    })

    test('invalid keys are refused with SCFG_ERR_STORE_KEY_INVALID', async () => {
      for (const bad of ['', '/abs', 'a/../b', '..', 'a//b', 'a/./b', 'nul\0byte', 'trailing/']) {
        await expectCode(store.put(bad, Buffer.from('x')), 'SCFG_ERR_STORE_KEY_INVALID')
        await expectCode(store.get(bad), 'SCFG_ERR_STORE_KEY_INVALID')
        await expectCode(store.has(bad), 'SCFG_ERR_STORE_KEY_INVALID')
        await expectCode(store.delete(bad), 'SCFG_ERR_STORE_KEY_INVALID')
      }
    })

    test('an aborted signal rejects with signal.reason and writes nothing', async () => {
      const reason = new Error('deadline')
      const signal = AbortSignal.abort(reason)
      await expect(store.put(k('ab'), Buffer.from('x'), { signal })).rejects.toBe(reason)
      await expect(store.get(k('ab'), { signal })).rejects.toBe(reason)
      await expect(store.has(k('ab'), { signal })).rejects.toBe(reason)
      expect(await store.has(k('ab'))).toBe(false)
    })

    test('aborting a streamed put midway leaves the old value in place', async () => {
      await store.put(k('ab2'), Buffer.from('old'))
      const controller = new AbortController()
      const body = (async function* () {
        yield Buffer.alloc(64 * 1024, 1)
        controller.abort(new Error('deadline'))
        yield Buffer.alloc(64 * 1024, 2)
        await new Promise((r) => setTimeout(r, 50))
        yield Buffer.alloc(64 * 1024, 3)
      })()
      await expect(store.put(k('ab2'), body, { signal: controller.signal })).rejects.toBeDefined()
      expect((await readAll(await store.get(k('ab2'))))!.toString()).toBe('old')
    })
  })
}
