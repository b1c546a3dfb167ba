// SIGTERM on a busy image function: every in-flight request answered, late ones 503, idle sockets closed, exit 0.
import { Agent } from 'node:http'
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { countLines, post, spawnServer } from './helpers.js'

const IN_FLIGHT = 200

describe('serveEventFunction: SIGTERM drain', () => {
  it(`answers ${IN_FLIGHT}/${IN_FLIGHT} in-flight invocations, 503s late requests, closes idle sockets, runs hooks, exits 0`, async () => {
    const server = await spawnServer('server.mjs')
    const agent = new Agent({ keepAlive: true, maxSockets: Infinity })
    try {
      // one idle keep-alive socket, left over from a finished request
      const idleAgent = new Agent({ keepAlive: true, maxSockets: 1 })
      expect((await post(server.port, { action: 'echo' }, { agent: idleAgent })).status).toBe(200)
      const idleSocket = Object.values(idleAgent.freeSockets)[0]?.[0]
      expect(idleSocket).toBeDefined()
      const idleClosed = new Promise<void>((resolve) => idleSocket!.once('close', () => resolve()))

      const inflight = Array.from({ length: IN_FLIGHT }, (_, i) =>
        post(server.port, { action: 'wait', ms: 60_000, afterAbortMs: 1500 }, { agent, headers: { 'x-scf-request-id': `req-${i}` } }),
      )
      await server.waitFor((out) => countLines(out, /^started req-\d+$/) === IN_FLIGHT)

      server.child.kill('SIGTERM')
      await server.waitFor(/state=stopping/)
      // arrive during the drain, on fresh connections
      const late = await Promise.all(Array.from({ length: 5 }, (_, i) => post(server.port, { action: 'echo' }, { headers: { 'x-scf-request-id': `late-${i}` } })))
      for (const res of late) {
        expect(res.status).toBe(503)
        expect(res.headers.connection).toBe('close')
        expect(res.json()).toMatchObject({ errorCode: 'SCFG_ERR_SERVER_STOPPING' })
      }
      await idleClosed

      const results = await Promise.allSettled(inflight)
      const rejected = results.filter((r) => r.status === 'rejected')
      expect(rejected.map((r) => String((r as PromiseRejectedResult).reason))).toEqual([])
      const answered = results.map((r) => (r as PromiseFulfilledResult<Awaited<(typeof inflight)[number]>>).value)
      expect(answered.filter((r) => r.status === 200)).toHaveLength(IN_FLIGHT)
      answered.forEach((r, i) => expect(r.json()).toEqual({ aborted: true, reason: 'SIGTERM', requestId: `req-${i}` }))
      // busy keep-alive sockets are closed after their response
      expect(answered.every((r) => r.headers.connection === 'close')).toBe(true)

      expect(await server.exit).toEqual({ code: 0, signal: null })
      expect(server.output()).toContain('hook ran')
      expect(server.output()).toMatch(/state=stopped/)
      // the listening socket is gone with the process
      await expect(new Promise((resolve, reject) => connect(server.port, '127.0.0.1').once('connect', resolve).once('error', reject))).rejects.toThrow(/ECONNREFUSED/)
    } finally {
      agent.destroy()
      server.kill()
    }
  })

  it('a client that goes away aborts only its own invocation', async () => {
    const server = await spawnServer('server.mjs')
    try {
      const gone = new AbortController()
      const a = post(server.port, { action: 'wait', ms: 60_000 }, { headers: { 'x-scf-request-id': 'req-a' }, signal: gone.signal })
      const b = post(server.port, { action: 'wait', ms: 1500 }, { headers: { 'x-scf-request-id': 'req-b' } })
      await server.waitFor((out) => out.includes('started req-a') && out.includes('started req-b'))
      gone.abort()
      await expect(a).rejects.toThrow()
      await server.waitFor(/aborted req-a client-closed/)
      const res = await b
      expect(res.status).toBe(200)
      expect(res.json()).toEqual({ aborted: false, reason: null, requestId: 'req-b' })
      expect(server.output()).not.toMatch(/aborted req-b/)
      // the server is still fine
      expect((await post(server.port, { action: 'echo' })).status).toBe(200)
    } finally {
      server.kill()
      await server.exit
    }
  })

  it('exits only once its output is written: a slow log reader still gets every hook line and the stopped line', async () => {
    const server = await spawnServer('server.mjs', { FIXTURE_HOOK_LINES: '4000' })
    try {
      // a log collector that falls behind: the pipe fills and the server's writes queue up inside it
      server.child.stdout!.pause()
      server.child.kill('SIGTERM')
      setTimeout(() => server.child.stdout!.resume(), 300)
      expect(await server.exit).toEqual({ code: 0, signal: null })
      expect(countLines(server.output(), /^hook line \d+ h+$/)).toBe(4000)
      expect(server.output()).toContain('hook ran')
      expect(server.output()).toMatch(/state=stopped/)
    } finally {
      server.kill()
    }
  })

  it('exits 130 on SIGINT after the same drain', async () => {
    const server = await spawnServer('server.mjs')
    try {
      const pending = post(server.port, { action: 'wait', ms: 60_000 }, { headers: { 'x-scf-request-id': 'req-int' } })
      await server.waitFor(/started req-int/)
      server.child.kill('SIGINT')
      const res = await pending
      expect(res.json()).toEqual({ aborted: true, reason: 'SIGINT', requestId: 'req-int' })
      expect((await server.exit).code).toBe(130)
    } finally {
      server.kill()
    }
  })
})

