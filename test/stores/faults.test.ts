// The fault-injection helpers used by the persistence fault tests must themselves do what they say.
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { memoryStore } from '../../src/persistence/index.js'
import { faultStore, startSilentServer } from '../setup/faults.mjs'
import { quietPeriod, waitFor } from '../setup/wait.js'

describe('faultStore', () => {
  it('fails the chosen call after letting `after` through, `times` times, then heals', async () => {
    const store = faultStore(memoryStore(), [{ op: 'put', key: /^c\//, after: 1, times: 1, action: 'fail' }])
    await store.put('c/1', new Uint8Array([1]))
    await expect(store.put('c/2', new Uint8Array([2]))).rejects.toMatchObject({ code: 'SCFG_ERR_STORE_UNAVAILABLE' })
    await store.put('c/3', new Uint8Array([3]))
    await store.put('other', new Uint8Array([4]))
    expect(await store.has('c/2')).toBe(false)
    expect(store.state.faults).toBe(1)
    expect(store.calls.put).toBe(4)
  })

  it('hangs until the signal aborts, with its reason', async () => {
    const store = faultStore(memoryStore(), [{ op: 'has', action: 'hang' }])
    const controller = new AbortController()
    const pending = store.has('k', { signal: controller.signal })
    setTimeout(() => controller.abort(new Error('deadline')), 20)
    await expect(pending).rejects.toThrow('deadline')
  })

  it('fails a get mid-stream after the first part', async () => {
    const inner = memoryStore()
    await inner.put('k', (async function* () { yield new Uint8Array([1]); yield new Uint8Array([2]) })())
    const store = faultStore(inner, [{ op: 'get', action: 'fail-midway' }])
    const body = await store.get('k')
    const parts: number[] = []
    await expect((async () => { for await (const part of body!) parts.push(...part) })()).rejects.toThrow('mid-stream')
    expect(parts.length).toBeGreaterThan(0)
  })
})

describe('startSilentServer', () => {
  it('accepts a connection and never answers', async () => {
    const server = await startSilentServer()
    try {
      const socket = connect(server.port, '127.0.0.1')
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
      let got = 'silence'
      socket.once('data', () => (got = 'data'))
      await waitFor(() => server.connections === 1, { what: 'the silent server to accept the connection' })
      await quietPeriod(200, 'startSilentServer promises an absence (no byte back, ever): no event marks "would have answered by now"')
      expect(got).toBe('silence')
      expect(server.connections).toBe(1)
      socket.destroy()
    } finally {
      await server.close()
    }
  })
})
