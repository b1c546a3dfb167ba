// Issue 10 item 4: every request to a store that accepts and never answers is bounded: S3 by requestTimeoutMs /
// connectTimeoutMs (then the bounded retries, then SCFG_ERR_STORE_UNAVAILABLE), Redis by commandTimeoutMs. Against
// startSilentServer(), a TCP server that accepts and stays silent, and an HTTP server that stalls mid-body.
import { S3Client } from '@aws-sdk/client-s3'
import { mkdir, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSnapshotter } from '../../src/persistence/index.js'
import { redisStore } from '../../src/stores/redis.js'
import { s3Store } from '../../src/stores/s3.js'
import { scratch } from '../persistence/helpers.js'
import { startSilentServer } from '../setup/faults.mjs'

const credentials = { accessKeyId: 'AKIATIMEOUTS', secretAccessKey: 'timeouts-secret-key' }
// each case is bounded by its own options to a few seconds; before the fix they hung until this cut them off
const BOUND = 20_000

let silent: Awaited<ReturnType<typeof startSilentServer>>
let base: { dir: string; cleanup(): Promise<void> }
let root: string
beforeAll(async () => {
  silent = await startSilentServer()
  base = await scratch('scfg-timeouts-')
  root = join(base.dir, 'root')
  await mkdir(root, { recursive: true })
  await writeFile(join(root, 'a.txt'), 'a')
})
afterAll(async () => {
  await silent?.close()
  await base?.cleanup()
})

const silentS3 = (extra: Record<string, unknown> = {}) =>
  s3Store({ bucket: 'silent-bucket', endpoint: silent.url, credentials, requestTimeoutMs: 300, retries: 1, retryBaseDelayMs: 10, ...extra })

describe('s3Store against a server that accepts and never answers', () => {
  it('restore fails with SCFG_ERR_STORE_UNAVAILABLE after the bounded retries', async () => {
    const store = silentS3()
    const before = silent.connections
    const snapshotter = createSnapshotter({ store, root: join(base.dir, 'restored'), key: 'silent/key', logger: false })
    const error = await snapshotter.restore().catch((err: unknown) => err)
    expect(error).toMatchObject({ code: 'SCFG_ERR_STORE_UNAVAILABLE', message: expect.stringMatching(/no answer within 300 ms.*after 2 attempts/) })
    expect(silent.connections).toBeGreaterThan(before)
    await store.close()
  }, BOUND)

  it('snapshot fails with SCFG_ERR_STORE_UNAVAILABLE after the bounded retries', async () => {
    const store = silentS3()
    const snapshotter = createSnapshotter({ store, root, key: 'silent/key', logger: false })
    await expect(snapshotter.snapshot()).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_UNAVAILABLE', message: expect.stringMatching(/no answer within 300 ms/) })
    await store.close()
  }, BOUND)

  it('bounds a passed-in client too, whatever its own handler settings', async () => {
    const client = new S3Client({ endpoint: silent.url, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 })
    const store = s3Store({ bucket: 'silent-bucket', client, requestTimeoutMs: 300, retries: 0 })
    await expect(store.get('some/key')).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_UNAVAILABLE', message: expect.stringMatching(/no answer within 300 ms/) })
    client.destroy()
  }, BOUND)
})

describe('s3Store against a server that sends the headers, then stalls the body', () => {
  let server: Server
  let url: string
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000' })
      res.write(Buffer.alloc(10, 1))
      // ... and nothing more, ever (the socket stays open)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  it('a read that gets no byte for requestTimeoutMs fails with SCFG_ERR_STORE_UNAVAILABLE', async () => {
    const store = s3Store({ bucket: 'stall-bucket', endpoint: url, credentials, requestTimeoutMs: 300, retries: 0 })
    const body = await store.get('some/key')
    const read = (async () => {
      let bytes = 0
      for await (const part of body!) bytes += part.byteLength
      return bytes
    })()
    await expect(read).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_UNAVAILABLE' })
    await store.close()
  }, BOUND)
})

describe('redisStore against a server that accepts and never answers', () => {
  it('restore and snapshot fail with SCFG_ERR_STORE_UNAVAILABLE (commandTimeoutMs)', async () => {
    const store = redisStore({ url: `redis://127.0.0.1:${silent.port}`, commandTimeoutMs: 300, connectTimeoutMs: 300 })
    const restore = createSnapshotter({ store, root: join(base.dir, 'redis-restored'), key: 'silent/key', logger: false }).restore()
    await expect(restore).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_UNAVAILABLE', message: expect.stringMatching(/timed out/i) })
    const snapshot = createSnapshotter({ store, root, key: 'silent/key', logger: false }).snapshot()
    await expect(snapshot).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_UNAVAILABLE' })
    await store.close()
  }, BOUND)
})
