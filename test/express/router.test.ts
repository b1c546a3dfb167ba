// eventInvokeRouter in the user's own app: the same endpoint, the same drain, the user's other routes untouched.
import { describe, expect, it } from 'vitest'
import { post, spawnServer } from './helpers.js'

describe('eventInvokeRouter in a user app', () => {
  it('takes a body the app already parsed, and drains on SIGTERM: in-flight answered, late 503, exit 0', async () => {
    const server = await spawnServer('router-app.mjs')
    try {
      const echo = await post(server.port, { action: 'echo', a: [1] }, { headers: { 'x-scf-request-id': 'rt-1' } })
      expect(echo.json()).toEqual({ event: { action: 'echo', a: [1] }, requestId: 'rt-1' })
      expect((await post(server.port, undefined, { method: 'GET', raw: '' })).status).toBe(405)

      const pending = post(server.port, { action: 'wait' }, { headers: { 'x-scf-request-id': 'rt-2' } })
      await server.waitFor(/started rt-2/)
      server.child.kill('SIGTERM')
      await server.waitFor(/state=stopping/)
      const late = await post(server.port, { action: 'echo' })
      expect(late.status).toBe(503)
      expect(late.headers.connection).toBe('close')
      const res = await pending
      expect(res.status).toBe(200)
      expect(res.json()).toEqual({ aborted: true, reason: 'SIGTERM' })
      expect(await server.exit).toEqual({ code: 0, signal: null })
    } finally {
      server.kill()
    }
  })
})
