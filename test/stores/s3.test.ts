// s3Store / cosStore against a real single-node Ceph radosgw started by test/setup/global.ts (SigV4 verified).
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSnapshotter } from '../../src/persistence/index.js'
import { cosStore, s3Store, type S3StoreOptions } from '../../src/stores/s3.js'
import { freePort, startRadosgw, type RunningServer } from '../setup/servers.js'
import { digestTree, expectSurvivesServerKill, freshDir, loadPeerProbe, makeTree, readAll, requireServer } from '../setup/store-tests.js'
import { describeStoreConformance } from './conformance.js'

const ceph = requireServer('ceph', 's3Store against Ceph radosgw')

if (ceph) {
  const credentials = { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey }
  const admin = new S3Client({
    endpoint: ceph.endpoint, region: ceph.region, forcePathStyle: true, credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  })
  let buckets = 0
  const newBucket = async (name = `t${process.pid}-${++buckets}-${randomBytes(3).toString('hex')}`) => {
    await admin.send(new CreateBucketCommand({ Bucket: name }))
    return name
  }
  const storeFor = (bucket: string, extra: Partial<S3StoreOptions> = {}) =>
    s3Store({ bucket, endpoint: ceph.endpoint, region: ceph.region, credentials, ...extra })

  describeStoreConformance('s3 (Ceph radosgw)', async () => ({ store: storeFor(await newBucket(), { prefix: 'conformance' }), cleanup: async () => {} }))

  describe('s3Store against Ceph radosgw', () => {
    let bucket: string
    beforeAll(async () => {
      bucket = await newBucket()
    })
    afterAll(() => admin.destroy())

    it('keeps keys under its prefix and lists them without it', async () => {
      const store = storeFor(bucket, { prefix: 'app/one' })
      const other = storeFor(bucket, { prefix: 'app/two/' })
      await store.put('x/y', Buffer.from('1'))
      await other.put('x/z', Buffer.from('2'))
      const keys: string[] = []
      for await (const key of store.list('x/')) keys.push(key)
      expect(keys).toEqual(['x/y'])
      expect(store.prefix).toBe('app/one/')
      expect(await other.has('x/y')).toBe(false)
      await store.close()
      await other.close()
    })

    it('lists past one page (continuation tokens) and deletes in batches of 1000', async () => {
      const store = storeFor(bucket, { prefix: 'many' })
      const keys = Array.from({ length: 1105 }, (_, i) => `k/${String(i).padStart(5, '0')}`)
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, Buffer.from(key))))
      const listed: string[] = []
      for await (const key of store.list('k/')) listed.push(key)
      expect(listed.sort()).toEqual(keys)
      await store.delete(keys)
      const left: string[] = []
      for await (const key of store.list('k/')) left.push(key)
      expect(left).toEqual([])
      await store.close()
    }, 120_000)

    it('uploads a stream of unknown size larger than one part as a multipart upload', async () => {
      const store = storeFor(bucket, { partSizeBytes: 5 * 1024 * 1024 })
      const parts = Array.from({ length: 12 }, () => randomBytes(1024 * 1024))
      await store.put('multi/obj', (async function* () { yield* parts })())
      expect((await readAll(await store.get('multi/obj')))!.equals(Buffer.concat(parts))).toBe(true)
      // a failed stream leaves no object and no half-written one
      const broken = (async function* () {
        yield* parts.slice(0, 7)
        throw new Error('source broke')
      })()
      await expect(store.put('multi/broken', broken)).rejects.toThrow('source broke')
      expect(await store.has('multi/broken')).toBe(false)
      await store.close()
    }, 60_000)

    it('wrong credentials give SCFG_ERR_STORE_AUTH (radosgw verifies the SigV4 signature)', async () => {
      const wrongSecret = storeFor(bucket, { credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: 'not-the-secret-at-all' } })
      await expect(wrongSecret.put('auth/x', Buffer.from('x'))).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_AUTH' })
      await expect(wrongSecret.get('auth/x')).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_AUTH' })
      const unknownKey = storeFor(bucket, { credentials: { accessKeyId: 'NOSUCHACCESSKEY00000', secretAccessKey: 'whatever-secret' } })
      const err = await (async () => { for await (const _ of unknownKey.list('')) void _ })().catch((e) => e)
      expect(err).toMatchObject({ code: 'SCFG_ERR_STORE_AUTH' })
      expect(err.cause).toBeDefined()
      expect(String(err.message)).not.toContain('not-the-secret-at-all')
      await wrongSecret.close()
      await unknownKey.close()
    })

    it('a missing bucket gives SCFG_ERR_STORE_NOT_FOUND', async () => {
      const store = storeFor('no-such-bucket-here')
      await expect(store.put('x', Buffer.from('x'))).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_NOT_FOUND' })
      await expect(store.has('x')).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_NOT_FOUND' })
      await store.close()
    })

    it('an unreachable endpoint gives SCFG_ERR_STORE_UNAVAILABLE after its bounded retries', async () => {
      const port = await freePort()
      const store = s3Store({ bucket: 'whatever', endpoint: `http://127.0.0.1:${port}`, credentials, retries: 2, retryBaseDelayMs: 10 })
      const err = await store.put('x', Buffer.from('x')).catch((e) => e)
      expect(err).toMatchObject({ code: 'SCFG_ERR_STORE_UNAVAILABLE' })
      expect(err.message).toContain('after 3 attempts')
      await store.close()
    })

    it('snapshot -> restore round trip through radosgw, then an unchanged re-snapshot uploads nothing', async () => {
      const root = await makeTree()
      const target = await freshDir()
      const store = storeFor(bucket, { prefix: 'snap' })
      const snapshotter = createSnapshotter({ store, root, key: 'fn/one', logger: false })
      const first = await snapshotter.snapshot()
      expect(first.files).toBe(4)
      const again = await snapshotter.snapshot()
      expect(again.uploadedChunks).toBe(0)
      await createSnapshotter({ store, root: target, key: 'fn/one', logger: false }).restore()
      expect(await digestTree(target)).toEqual(await digestTree(root))
      await store.close()
    }, 60_000)
  })

  describe('s3Store retries', () => {
    let server: Server
    let hits = 0
    let port: number
    beforeAll(async () => {
      // a server that always answers like a throttled S3: 503 SlowDown
      server = createServer((req, res) => {
        hits++
        req.resume()
        res.writeHead(503, { 'content-type': 'application/xml' })
        res.end('<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>')
      })
      port = await freePort()
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    })
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

    it('retries throttling with backoff, then fails with SCFG_ERR_STORE_UNAVAILABLE', async () => {
      hits = 0
      const store = s3Store({ bucket: 'throttled', endpoint: `http://127.0.0.1:${port}`, credentials, retries: 3, retryBaseDelayMs: 5, retryMaxDelayMs: 20 })
      await expect(store.put('x', Buffer.from('x'))).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_UNAVAILABLE' })
      expect(hits).toBe(4)
      await store.close()
    })

    it('the caller\'s signal bounds the retries: it rejects with signal.reason', async () => {
      hits = 0
      const store = s3Store({ bucket: 'throttled', endpoint: `http://127.0.0.1:${port}`, credentials, retries: 1000, retryBaseDelayMs: 20, retryMaxDelayMs: 50 })
      const controller = new AbortController()
      const reason = new Error('deadline')
      setTimeout(() => controller.abort(reason), 300).unref()
      await expect(store.get('x', { signal: controller.signal })).rejects.toBe(reason)
      expect(hits).toBeGreaterThan(1)
      expect(hits).toBeLessThan(1000)
      await store.close()
    })
  })

  describe('cosStore', () => {
    const saved = { ...process.env }
    afterAll(() => {
      for (const name of ['TENCENTCLOUD_SECRETID', 'TENCENTCLOUD_SECRETKEY', 'TENCENTCLOUD_SESSIONTOKEN']) {
        if (saved[name] === undefined) delete process.env[name]
        else process.env[name] = saved[name]
      }
    })

    it('points at cos.<region>.myqcloud.com with the name-appid bucket', () => {
      const store = cosStore({ bucket: 'snapshots-1250000000', region: 'ap-guangzhou', prefix: 'fn' })
      expect(store.endpoint).toBe('https://cos.ap-guangzhou.myqcloud.com')
      expect(store.bucket).toBe('snapshots-1250000000')
      expect(store.region).toBe('ap-guangzhou')
      expect(store.prefix).toBe('fn/')
      expect(() => cosStore({ bucket: 'no-appid', region: 'ap-guangzhou' })).toThrow(expect.objectContaining({ code: 'SCFG_ERR_INVALID_OPTION' }))
      expect(() => cosStore({ bucket: 'snapshots-1250000000', region: 'Guangzhou' })).toThrow(expect.objectContaining({ code: 'SCFG_ERR_INVALID_OPTION' }))
    })

    it('takes SCF credentials from TENCENTCLOUD_SECRETID / SECRETKEY (radosgw standing in for COS)', async () => {
      const bucket = await newBucket(`snapshots-${1250000000 + buckets++}`)
      delete process.env.TENCENTCLOUD_SESSIONTOKEN
      process.env.TENCENTCLOUD_SECRETID = ceph.accessKeyId
      process.env.TENCENTCLOUD_SECRETKEY = ceph.secretAccessKey
      const store = cosStore({ bucket, region: 'ap-guangzhou', endpoint: ceph.endpoint })
      await store.put('env/x', Buffer.from('from env'))
      expect((await readAll(await store.get('env/x')))!.toString()).toBe('from env')
      await store.close()

      process.env.TENCENTCLOUD_SECRETKEY = 'a-wrong-secret-key-value'
      const wrong = cosStore({ bucket, region: 'ap-guangzhou', endpoint: ceph.endpoint })
      await expect(wrong.get('env/x')).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_AUTH' })
      await wrong.close()

      delete process.env.TENCENTCLOUD_SECRETID
      delete process.env.TENCENTCLOUD_SECRETKEY
      const none = cosStore({ bucket, region: 'ap-guangzhou', endpoint: ceph.endpoint, retries: 0 })
      await expect(none.get('env/x')).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_AUTH' })
      await none.close()
    })
  })

  describe('radosgw killed mid-snapshot', () => {
    let rgw: RunningServer | undefined
    afterAll(async () => {
      await rgw?.stop()
    })

    it('fails clearly within the deadline; the last snapshot stays restorable once the server is back; the next snapshot succeeds', async () => {
      rgw = await startRadosgw(ceph)
      const port = rgw.port
      const bucket = await newBucket()
      const store = storeFor(bucket, { endpoint: `http://127.0.0.1:${port}`, requestTimeoutMs: 3000, retries: 3, retryBaseDelayMs: 50 })
      await expectSurvivesServerKill(store, {
        kill: () => rgw!.kill('SIGKILL'),
        revive: async () => {
          rgw = await startRadosgw(ceph, port)
        },
      })
      await store.close()
    }, 120_000)
  })

  describe('lazy SDK import', () => {
    it('importing the built scf-graceful/stores/s3 and creating a store does not load @aws-sdk/client-s3; the first operation does', () => {
      const probe = loadPeerProbe('stores/s3.js', '@aws-sdk/client-s3', "const store = mod.s3Store({ bucket: 'lazy-bucket', endpoint: 'http://127.0.0.1:1' })",
        'await store.has("x").catch((e) => console.log(String(e.cause ?? e)))')
      expect(probe.quiet).toContain('NOT LOADED')
      expect(probe.loads).toContain('PEER LOADED @aws-sdk/client-s3')
    })
  })

  describe('s3Store options', () => {
    it('fails fast on bad options, naming the option', () => {
      const bad = (options: unknown) => expect(() => s3Store(options as S3StoreOptions)).toThrow(expect.objectContaining({ code: 'SCFG_ERR_INVALID_OPTION' }))
      bad(undefined)
      bad({ bucket: 'x' })
      bad({ bucket: 'ok-bucket', endpoint: 'ftp://nope' })
      bad({ bucket: 'ok-bucket', client: {} })
      bad({ bucket: 'ok-bucket', credentials: { accessKeyId: 'only' } })
      bad({ bucket: 'ok-bucket', retries: -1 })
      bad({ bucket: 'ok-bucket', prefix: '../up' })
      expect(() => s3Store({ bucket: 'ok-bucket', requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs/)
    })
  })
}
