// Issue 10 item 8: the secrets registry is bounded (credentials rotate: only the recent ones are kept) and redacts
// URL-encoded forms too. Unit tests of src/log.ts, then the image adapter in a real child process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_ROTATING_SECRETS, redact, registerSecret, secretCount } from '../../src/log.js'
import { post, spawnServer, type Spawned } from '../express/helpers.js'

const credentialSet = (i: number) => ({
  id: `AKID${String(i).padStart(12, '0')}rotating`,
  key: `key/${i}+rotating=secret/value`,
  token: `token:${i}/session+token==with/slashes`,
})

describe('the secrets registry', () => {
  it('keeps a bounded number of rotating secrets, however many distinct credentials arrive', () => {
    for (let i = 0; i < 5000; i++) {
      const set = credentialSet(i)
      for (const value of [set.id, set.key, set.token]) registerSecret(value, { rotating: true })
    }
    expect(secretCount().rotating).toBeLessThanOrEqual(MAX_ROTATING_SECRETS)
    const current = credentialSet(4999)
    expect(redact(`key=${current.key} token=${current.token}`)).toBe('key=*** token=***')
    // a set that rotated out long ago is not kept
    expect(redact(`old ${credentialSet(0).key}`)).toBe(`old ${credentialSet(0).key}`)
  })

  it('keeps re-registered (in-use) credentials while newer ones come and go', () => {
    const inUse = 'in-use/secret+key=0123456789'
    for (let i = 0; i < 10 * MAX_ROTATING_SECRETS; i++) {
      registerSecret(inUse, { rotating: true })
      registerSecret(`other-rotating-secret-${i}`, { rotating: true })
    }
    expect(redact(`k=${inUse}`)).toBe('k=***')
  })

  it('keeps secrets from configuration (not rotating) for good', () => {
    const pinned = 'configured/secret+access=key'
    registerSecret(pinned)
    for (let i = 0; i < 3 * MAX_ROTATING_SECRETS; i++) registerSecret(`flood-rotating-secret-${i}`, { rotating: true })
    expect(redact(pinned)).toBe('***')
    expect(secretCount().rotating).toBeLessThanOrEqual(MAX_ROTATING_SECRETS)
  })

  it('redacts the URL-encoded form of a secret (upper and lower case hex), and of SCF env credentials', () => {
    const secret = 'abc/def+ghi=jkl:mno'
    registerSecret(secret, { rotating: true })
    const encoded = encodeURIComponent(secret)
    expect(encoded).not.toBe(secret)
    expect(redact(`GET /x?sig=${encoded}&raw=${secret}`)).toBe('GET /x?sig=***&raw=***')
    expect(redact(`sig=${encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`)).toBe('sig=***')
    const previous = process.env.TENCENTCLOUD_SESSIONTOKEN
    process.env.TENCENTCLOUD_SESSIONTOKEN = 'env/session+token=0123'
    try {
      expect(redact(`t=${encodeURIComponent('env/session+token=0123')}`)).toBe('t=***')
    } finally {
      if (previous === undefined) delete process.env.TENCENTCLOUD_SESSIONTOKEN
      else process.env.TENCENTCLOUD_SESSIONTOKEN = previous
    }
  })
})

describe('the image adapter under rotating X-Scf-Secret-* credentials', () => {
  let server: Spawned
  beforeAll(async () => {
    server = await spawnServer('../../core/fixtures/rotating-secrets-server.mjs')
  })
  afterAll(async () => {
    server?.kill()
    await server?.exit
  })

  const headersOf = (set: ReturnType<typeof credentialSet>, i: number) => ({
    'x-scf-request-id': `rot-${i}`,
    'x-scf-secret-id': set.id,
    'x-scf-secret-key': set.key,
    'x-scf-session-token': set.token,
  })

  it('remembers a bounded number of secrets after many credential sets; the current one is redacted, URL-encoded too', async () => {
    for (let i = 0; i < 300; i++) {
      const res = await post(server.port, { action: 'count' }, { headers: headersOf(credentialSet(i), i) })
      expect(res.status).toBe(200)
    }
    const count = await post(server.port, { action: 'count' }, { headers: headersOf(credentialSet(300), 300) })
    expect(count.json().remembered).toBeGreaterThan(0)
    expect(count.json().remembered).toBeLessThanOrEqual(MAX_ROTATING_SECRETS)

    const current = credentialSet(301)
    const failed = await post(server.port, { action: 'fail' }, { headers: headersOf(current, 301) })
    expect(failed.status).toBeGreaterThanOrEqual(400)
    await server.waitFor(/rot-301/)
    const seen = `${failed.body.toString()}\n${server.output()}`
    for (const value of [current.key, current.token]) {
      expect(seen).not.toContain(value)
      expect(seen).not.toContain(encodeURIComponent(value))
    }
    expect(failed.body.toString()).toContain('key=***&token=*** raw=***')
  })
})
