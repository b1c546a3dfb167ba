// The adapters with the peer versions each runtime can run, installed the way a user's project has them:
// Express 4 and 5 on Nodejs18.15; the redis store with ioredis 5 (ioredis 6 needs Node 20) on both runtimes; the
// s3 store with @aws-sdk/client-s3 3.967.0 (the last 3.x whose engines allow Node 18; 3.722.0 is the last for 16)
// on Nodejs18.15. Real servers: the test setup's redis-server and Ceph radosgw.
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { requireServer } from '../setup/store-tests.js'
import { freePort } from '../setup/servers.js'
import { waitFor } from '../setup/wait.js'
import { describeOnRuntimes, lastJson, runNode, userProject } from './binaries.js'

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { peerDependencies: Record<string, string> }

function post(port: number, body: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/event-invoke', headers: { 'content-type': 'application/json', 'x-scf-request-id': 'req-e', 'x-scf-timeout': '30' } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }))
    })
    req.once('error', reject)
    req.end(JSON.stringify(body))
  })
}

describe('peer ranges', () => {
  it('express: ^4.17.0 || ^5.0.0, so a project with express@4 installs without flags', () => {
    expect(pkg.peerDependencies.express).toBe('^4.17.0 || ^5.0.0')
  })
})

for (const [label, alias, major] of [['Express 4', 'express4', '4'], ['Express 5', 'express', '5']] as const) {
  describeOnRuntimes(`the Express adapter with ${label}`, (runtime, node) => {
    for (const mode of ['serve', 'router'] as const) {
      it(`${mode === 'serve' ? 'serveEventFunction' : 'eventInvokeRouter in the app'}: answers /event-invoke, and SIGTERM drains and exits 0`, async () => {
        const project = await userProject({ express: alias }, [fixture('express-app.cjs')])
        try {
          const port = await freePort()
          let child: import('node:child_process').ChildProcess | undefined
          let stdout = ''
          let ready!: () => void
          const listening = new Promise<void>((r) => (ready = r))
          const run = runNode(node, ['express-app.cjs', mode], {
            cwd: project.dir,
            env: { PORT: String(port) },
            timeoutMs: 30_000,
            onStdout: (out, c) => {
              stdout = out
              if (!child && /listening/.test(out)) {
                child = c
                ready()
              }
            },
          })
          await Promise.race([listening, run.then((r) => Promise.reject(new Error(`exited: ${r.stdout}${r.stderr}`)))])
          const ok = await post(port, { hello: 1 })
          expect(ok.status).toBe(200)
          expect(ok.json).toMatchObject({ event: { hello: 1 }, requestId: 'req-e', node: runtime === 'Nodejs16.13' ? 'v16.13.0' : 'v18.15.0' })
          expect(ok.json.express.split('.')[0]).toBe(major)
          if (mode === 'serve') {
            // an invocation in flight when SIGTERM comes: aborted with the reason, answered, then the process exits 0
            const waiting = post(port, { wait: true })
            await waitFor(() => /^waiting$/m.test(stdout), { what: () => `the handler's 'waiting' line; stdout: ${stdout}` })
            child!.kill('SIGTERM')
            expect(await waiting).toEqual({ status: 200, json: { stopped: 'SIGTERM' } })
          } else {
            child!.kill('SIGTERM')
          }
          const end = await run
          expect(end.code, end.stdout + end.stderr).toBe(0)
        } finally {
          await project.remove()
        }
      })
    }
  }, ['Nodejs18.15'])
}


describeOnRuntimes('the redis store with ioredis 5', (runtime, node) => {
  const redis = requireServer('redis', `redis store on ${runtime}`)
  if (!redis) return
  it('store contract and a snapshot/restore round trip', async () => {
    const project = await userProject({ ioredis: 'ioredis5' }, [fixture('stores.cjs')])
    try {
      const r = await runNode(node, ['stores.cjs', 'redis'], { cwd: project.dir, env: { REDIS_URL: redis.url }, timeoutMs: 30_000 })
      expect(lastJson(r.stdout), r.stderr).toEqual({ got: 'hello', listed: ['a/one'], gone: true, restored: `from v${runtime === 'Nodejs16.13' ? '16.13.0' : '18.15.0'}`, client: expect.stringMatching(/^5\./) })
    } finally {
      await project.remove()
    }
  })
})

describeOnRuntimes('the s3 store with @aws-sdk/client-s3 3.967.0', (runtime, node) => {
  const ceph = requireServer('ceph', `s3 store on ${runtime}`)
  if (!ceph) return
  it('store contract and a snapshot/restore round trip against Ceph RGW', async () => {
    const project = await userProject({ '@aws-sdk/client-s3': 'client-s3-node18' }, [fixture('stores.cjs')])
    try {
      const env = { S3_ENDPOINT: ceph.endpoint, S3_REGION: ceph.region, S3_KEY: ceph.accessKeyId, S3_SECRET: ceph.secretAccessKey }
      const r = await runNode(node, ['stores.cjs', 's3'], { cwd: project.dir, env, timeoutMs: 60_000 })
      expect(lastJson(r.stdout), r.stderr).toEqual({ got: 'hello', listed: ['a/one'], gone: true, restored: 'from v18.15.0', client: '3.967.0' })
    } finally {
      await project.remove()
    }
  }, 90_000)
}, ['Nodejs18.15'])
