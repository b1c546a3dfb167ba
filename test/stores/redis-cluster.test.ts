// redisStore over a real three-master Redis Cluster (started here from the same redis-server binary as the other
// store tests): streamed puts RENAME within one hash slot, list() scans every master, delete goes key by key.
import { Cluster } from 'ioredis'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSnapshotter } from '../../src/persistence/index.js'
import { redisStore } from '../../src/stores/redis.js'
import { startRedisCluster, type RedisCluster } from '../setup/servers.js'
import { digestTree, freshDir, makeTree, readAll, requireServer } from '../setup/store-tests.js'
import { describeStoreConformance } from './conformance.js'

const redis = requireServer('redis', 'redisStore on a Redis Cluster')

if (redis) {
  let cluster: RedisCluster
  let client: Cluster
  beforeAll(async () => {
    cluster = await startRedisCluster(3)
    client = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })), { lazyConnect: false })
    client.on('error', () => {})
  }, 60_000)
  afterAll(async () => {
    await client?.quit().catch(() => client.disconnect())
    await cluster?.stop()
  })

  describeStoreConformance('redis cluster', async () => ({ store: redisStore({ client, prefix: `conf-${randomBytes(3).toString('hex')}:` }), cleanup: async () => {} }))

  describe('redisStore on a Redis Cluster', () => {
    /** Keys on each master, by SCAN on that master alone. */
    const keysPerMaster = async (match: string) =>
      Promise.all(
        client.nodes('master').map(async (node) => {
          const found: string[] = []
          let cursor = '0'
          do {
            const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000)
            cursor = next
            found.push(...keys)
          } while (cursor !== '0')
          return found
        }),
      )

    it('streams a value into a key without a hash tag (RENAME within its slot) and leaves no temp key', async () => {
      const store = redisStore({ client, prefix: 'stream:' })
      const bytes = randomBytes(3 * 1024 * 1024 + 17)
      for (const key of ['chunks/ab/abcdef', 'snapshots/fn/one/_ref', 'tagged/{fn}/x']) {
        await store.put(key, (async function* () {
          for (let i = 0; i < bytes.length; i += 1024 * 1024) yield bytes.subarray(i, i + 1024 * 1024)
        })())
        expect((await readAll(await store.get(key)))!.equals(bytes)).toBe(true)
      }
      const all = (await keysPerMaster('*stream:*')).flat()
      expect(all.filter((k) => k.includes('\0'))).toEqual([])
      expect(all.sort()).toEqual(['stream:chunks/ab/abcdef', 'stream:snapshots/fn/one/_ref', 'stream:tagged/{fn}/x'])
    })

    it('lists and deletes keys that live on every master', async () => {
      const store = redisStore({ client, prefix: 'spread:' })
      const keys = Array.from({ length: 300 }, (_, i) => `k/${i}`)
      await Promise.all(keys.map((key) => store.put(key, Buffer.from(key))))
      // the keys really are spread: every master holds some
      expect((await keysPerMaster('spread:*')).every((onNode) => onNode.length > 0)).toBe(true)
      const listed: string[] = []
      for await (const key of store.list('k/')) listed.push(key)
      expect(listed.sort()).toEqual([...keys].sort())
      // a client that has not connected yet knows no masters: list() must not take that for an empty store
      const late = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })), { lazyConnect: true })
      late.on('error', () => {})
      try {
        const fromLate: string[] = []
        for await (const key of redisStore({ client: late, prefix: 'spread:' }).list('k/')) fromLate.push(key)
        expect(fromLate.sort()).toEqual([...keys].sort())
      } finally {
        late.disconnect()
      }
      await store.delete(keys)
      expect((await keysPerMaster('spread:*')).flat()).toEqual([])
    })

    it('snapshot -> restore round trip through the cluster', async () => {
      const root = await makeTree()
      const target = await freshDir()
      const store = redisStore({ client, prefix: 'snap:' })
      expect((await createSnapshotter({ store, root, key: 'fn/one', logger: false }).snapshot()).files).toBe(4)
      await createSnapshotter({ store, root: target, key: 'fn/one', logger: false }).restore()
      expect(await digestTree(target)).toEqual(await digestTree(root))
    }, 60_000)
  })
}
