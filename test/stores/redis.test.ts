// redisStore against a real redis-server started by test/setup/global.ts (and private ones for auth and kill tests).
import { Redis } from 'ioredis'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSnapshotter } from '../../src/persistence/index.js'
import { redisStore } from '../../src/stores/redis.js'
import { freePort, startRedis, type RunningServer } from '../setup/servers.js'
import { digestTree, expectSurvivesServerKill, freshDir, loadPeerProbe, makeTree, readAll, requireServer, tempDir } from '../setup/store-tests.js'
import { describeStoreConformance } from './conformance.js'
import { waitFor } from '../setup/wait.js'

const redis = requireServer('redis', 'redisStore against redis-server')

if (redis) {
  describeStoreConformance('redis', async () => ({ store: redisStore({ url: redis.url, prefix: `conf-${randomBytes(3).toString('hex')}:` }), cleanup: async () => {} }))

  describe('redisStore against redis-server', () => {
    let raw: Redis
    beforeAll(() => {
      raw = new Redis(redis.url)
    })
    afterAll(async () => {
      await raw.quit()
    })

    it('stores raw bytes under its prefix', async () => {
      const store = redisStore({ url: redis.url, prefix: 'p1:' })
      const bytes = randomBytes(1000)
      await store.put('a/b', bytes)
      expect((await raw.getBuffer('p1:a/b'))!.equals(bytes)).toBe(true)
      await store.close()
    })

    it('sets the TTL on plain and streamed writes, and none without ttlSeconds', async () => {
      const store = redisStore({ url: redis.url, prefix: 'ttl:', ttlSeconds: 120 })
      await store.put('plain', Buffer.from('x'))
      await store.put('streamed', (async function* () { yield Buffer.alloc(3 * 1024 * 1024, 1) })())
      for (const key of ['ttl:plain', 'ttl:streamed']) {
        const ttl = await raw.ttl(key)
        expect(ttl).toBeGreaterThan(100)
        expect(ttl).toBeLessThanOrEqual(120)
      }
      const forever = redisStore({ url: redis.url, prefix: 'nottl:' })
      await forever.put('streamed', (async function* () { yield Buffer.alloc(3 * 1024 * 1024, 1) })())
      expect(await raw.ttl('nottl:streamed')).toBe(-1)
      await store.close()
      await forever.close()
    })

    it('lists with SCAN across many keys, skips in-flight temp keys, deletes in batches', async () => {
      const store = redisStore({ url: redis.url, prefix: 'many:' })
      const keys = Array.from({ length: 2500 }, (_, i) => `k/${i}`)
      await Promise.all(keys.map((key) => store.put(key, Buffer.from(key))))
      // a streamed put that is still running leaves a temp key: it must not show up
      let release!: () => void
      const gate = new Promise<void>((resolve) => (release = resolve))
      const slow = store.put('k/slow', (async function* () {
        yield Buffer.alloc(2 * 1024 * 1024, 7)
        await gate
        yield Buffer.from('end')
      })())
      // the temp key exists (list() must skip it)
      // (a temp key is `{<prefix><key>}\0tmp\0...`: the braces keep it in its key's cluster slot)
      await waitFor(async () => (await raw.keys('{many:k/slow}*')).length > 0, { what: "the streamed put's temp key" })
      const listed: string[] = []
      for await (const key of store.list('k/')) listed.push(key)
      expect(listed.sort()).toEqual([...keys].sort())
      release()
      await slow
      await store.delete([...keys, 'k/slow'])
      const left: string[] = []
      for await (const key of store.list('k/')) left.push(key)
      expect(left).toEqual([])
      expect(await raw.keys('*many:*')).toEqual([])
      await store.close()
    }, 60_000)

    it('an aborted streamed put leaves the old value and no temp key behind', async () => {
      const store = redisStore({ url: redis.url, prefix: 'abort:' })
      await store.put('v', Buffer.from('old'))
      const controller = new AbortController()
      const body = (async function* () {
        for (let i = 0; i < 6; i++) yield Buffer.alloc(1024 * 1024, i)
        controller.abort(new Error('deadline'))
        yield Buffer.alloc(1024 * 1024, 9)
      })()
      await expect(store.put('v', body, { signal: controller.signal })).rejects.toThrow('deadline')
      // the temp key's DEL goes out as the put fails, without being awaited: wait for it to land. The temp key is
      // `{abort:v}\0tmp\0...`, which the pattern 'abort:*' this test used before never matched
      await waitFor(async () => (await raw.keys('*abort:*')).length === 1, { what: () => 'the temp key to be deleted' })
      expect(await raw.keys('*abort:*')).toEqual(['abort:v'])
      expect(await raw.get('abort:v')).toBe('old')
      await store.close()
    })

    it('a glob character in the prefix is matched literally', async () => {
      const store = redisStore({ url: redis.url, prefix: 'g[1]*:' })
      const decoy = redisStore({ url: redis.url, prefix: 'g1x:' })
      await store.put('a', Buffer.from('1'))
      await decoy.put('a', Buffer.from('2'))
      const listed: string[] = []
      for await (const key of store.list('')) listed.push(key)
      expect(listed).toEqual(['a'])
      await store.close()
      await decoy.close()
    })

    it('close() leaves a passed-in client open', async () => {
      const client = new Redis(redis.url)
      const store = redisStore({ client, prefix: 'own:' })
      await store.put('x', Buffer.from('y'))
      await store.close()
      expect(await client.get('own:x')).toBe('y')
      await client.quit()
    })

    it('an unreachable server gives SCFG_ERR_STORE_UNAVAILABLE quickly (bounded reconnects)', async () => {
      const store = redisStore({ url: `redis://127.0.0.1:${await freePort()}`, maxRetriesPerRequest: 1 })
      await expect(store.put('x', Buffer.from('x'))).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_UNAVAILABLE' })
      await store.close()
    })

    it('snapshot -> restore round trip through redis, then an unchanged re-snapshot uploads nothing', async () => {
      const root = await makeTree()
      const target = await freshDir()
      const store = redisStore({ url: redis.url, prefix: 'snap:' })
      const snapshotter = createSnapshotter({ store, root, key: 'fn/one', logger: false })
      expect((await snapshotter.snapshot()).files).toBe(4)
      expect((await snapshotter.snapshot()).uploadedChunks).toBe(0)
      await createSnapshotter({ store, root: target, key: 'fn/one', logger: false }).restore()
      expect(await digestTree(target)).toEqual(await digestTree(root))
      await store.close()
    }, 60_000)
  })

  describe('redis with a password', () => {
    let server: RunningServer
    beforeAll(async () => {
      server = await startRedis({ password: 'the-right-password-123' })
    })
    afterAll(() => server.stop())

    it('a wrong password gives SCFG_ERR_STORE_AUTH and never shows the password', async () => {
      const store = redisStore({ url: `redis://:the-wrong-password-456@127.0.0.1:${server.port}`, maxRetriesPerRequest: 1 })
      const err = await store.put('x', Buffer.from('x')).catch((e) => e)
      expect(err).toMatchObject({ code: 'SCFG_ERR_STORE_AUTH' })
      expect(err.message).not.toContain('the-wrong-password-456')
      await store.close()
      const none = redisStore({ url: `redis://127.0.0.1:${server.port}`, maxRetriesPerRequest: 1 })
      await expect(none.has('x')).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_AUTH' })
      await none.close()
      const right = redisStore({ url: `redis://:the-right-password-123@127.0.0.1:${server.port}` })
      await right.put('x', Buffer.from('ok'))
      expect((await readAll(await right.get('x')))!.toString()).toBe('ok')
      await right.close()
    })
  })

  describe('redis killed mid-snapshot', () => {
    let server: RunningServer | undefined
    afterAll(async () => {
      await server?.stop()
    })

    it('fails clearly within the deadline; the last snapshot stays restorable once the server is back; the next snapshot succeeds', async () => {
      const dataDir = await tempDir('redis')
      // append-only file, fsync always: the data outlives SIGKILL, like a real Redis with persistence
      server = await startRedis({ dataDir })
      const port = server.port
      const store = redisStore({ url: `redis://127.0.0.1:${port}`, prefix: 'kill:', commandTimeoutMs: 5000, maxRetriesPerRequest: 2 })
      await expectSurvivesServerKill(store, {
        kill: () => server!.kill('SIGKILL'),
        revive: async () => {
          server = await startRedis({ dataDir, port })
        },
      })
      await store.close()
    }, 120_000)
  })

  describe('redisStore without a server', () => {
    it('importing the built scf-graceful/stores/redis and creating a store does not load ioredis; the first operation does', () => {
      const probe = loadPeerProbe('stores/redis.js', 'ioredis', "const store = mod.redisStore({ url: 'redis://127.0.0.1:1' })",
        'await store.has("x").catch((e) => console.log(String(e.cause ?? e)))')
      expect(probe.quiet).toContain('NOT LOADED')
      expect(probe.loads).toContain('PEER LOADED ioredis')
    })

    it('fails fast on bad options, naming the option, without echoing a password', () => {
      const bad = (options: unknown) => expect(() => redisStore(options as never)).toThrow(expect.objectContaining({ code: 'SCFG_ERR_INVALID_OPTION' }))
      bad(undefined)
      bad({})
      bad({ url: 'http://127.0.0.1:6379' })
      bad({ client: {} })
      bad({ url: redis.url, ttlSeconds: 0 })
      bad({ url: redis.url, ttlSeconds: 1.5 })
      bad({ url: redis.url, commandTimeoutMs: -1 })
      const err = (() => {
        try {
          redisStore({ url: 'http://:hunter2-secret-pass@127.0.0.1:6379' })
        } catch (e) {
          return e as Error
        }
      })()
      expect(err?.message).toContain('url')
      expect(err?.message).not.toContain('hunter2-secret-pass')
    })
  })
}
