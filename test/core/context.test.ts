import { describe, expect, it } from 'vitest'
import { contextFromEnv, contextFromHeaders, graceful, normalizeContext, parseEnviron } from '../../src/index.js'

describe('normalizeContext (code deployment)', () => {
  it('accepts numbers that arrive as strings and parses environ, keeping the runtime fields', () => {
    const ctx = normalizeContext(
      { request_id: 'r1', memory_limit_in_mb: '256', time_limit_in_ms: '3000', function_name: 'f', function_version: '2', namespace: 'ns', environ: 'A=1;B=x=y;;C=' },
      {},
    )
    expect(ctx).toMatchObject({ requestId: 'r1', memoryLimitMb: 256, timeLimitMs: 3000, functionName: 'f', functionVersion: '2', namespace: 'ns' })
    expect(ctx.env).toEqual({ A: '1', B: 'x=y', C: '' })
    expect(ctx.request_id).toBe('r1')
    expect(ctx.time_limit_in_ms).toBe('3000')
  })

  it('tolerates a missing or junk context and falls back to the SCF environment', () => {
    const ctx = normalizeContext(undefined, { SCF_FUNCTIONNAME: 'from-env', SCF_NAMESPACE: 'n2' })
    expect(ctx.functionName).toBe('from-env')
    expect(ctx.namespace).toBe('n2')
    expect(ctx.requestId).toMatch(/^local-/)
    expect(normalizeContext({ time_limit_in_ms: 'abc', memory_limit_in_mb: -5 }, {}).timeLimitMs).toBeUndefined()
    expect(parseEnviron(42)).toEqual({})
  })

  it('keeps credentials off the enumerable fields, so JSON never shows them', () => {
    const ctx = normalizeContext({}, { TENCENTCLOUD_SECRETID: 'AKIDxxxxxxxx', TENCENTCLOUD_SECRETKEY: 'secret-key-123', TENCENTCLOUD_SESSIONTOKEN: 'tok-123456789' })
    expect(ctx.credentials).toEqual({ secretId: 'AKIDxxxxxxxx', secretKey: 'secret-key-123', sessionToken: 'tok-123456789' })
    expect(JSON.stringify(ctx)).not.toContain('secret-key-123')
  })
})

describe('contextFromHeaders (image deployment)', () => {
  it('maps X-Scf-* headers; Timeout is seconds unless it says ms; Memory is MB', () => {
    const ctx = contextFromHeaders(
      {
        'x-scf-request-id': 'req-9',
        'x-scf-memory': '512',
        'x-scf-timeout': '30',
        'x-scf-version': '$LATEST',
        'x-scf-name': 'img',
        'x-scf-namespace': 'default',
        'x-scf-region': 'ap-shanghai',
        'x-scf-appid': '1250000000',
        'x-scf-uin': '100',
        'x-scf-trigger-src': 'Timer',
        'x-scf-secret-id': 'AKIDheader0001',
        'x-scf-secret-key': 'header-secret-key',
        'x-scf-session-token': 'header-token-0001',
      },
      {},
    )
    expect(ctx).toMatchObject({ requestId: 'req-9', memoryLimitMb: 512, timeLimitMs: 30_000, functionName: 'img', region: 'ap-shanghai', appId: '1250000000', uin: '100', triggerSource: 'Timer' })
    expect(ctx.credentials?.secretKey).toBe('header-secret-key')
    expect(JSON.stringify(ctx)).not.toContain('header-secret-key')
    expect(contextFromHeaders({ 'x-scf-timeout': '1500ms' }, {}).timeLimitMs).toBe(1500)
    expect(contextFromHeaders({ 'x-scf-timeout': 'soon' }, {}).timeLimitMs).toBeUndefined()
  })
})

describe('contextFromEnv (job image)', () => {
  it('reads the SCF_* environment', () => {
    const ctx = contextFromEnv({ SCF_FUNCTIONNAME: 'job', SCF_NAMESPACE: 'ns', SCF_REQUEST_ID: 'r-job', SCF_TIMEOUT: '60' })
    expect(ctx).toMatchObject({ functionName: 'job', namespace: 'ns', requestId: 'r-job', timeLimitMs: 60_000 })
  })
})

describe('graceful() options', () => {
  it('fails fast on a bad option, naming it and the value that arrived', () => {
    expect(() => graceful('nope' as never)).toThrow(/option "handler" must be a function/)
    expect(() => graceful(async () => 1, { timeoutMarginMs: -1 })).toThrow(/option "timeoutMarginMs" must be a number of ms >= 0, got -1/)
    expect(() => graceful(async () => 1, { graceMs: Number.NaN })).toThrow(/option "graceMs"/)
    expect(() => graceful(async () => 1, { persist: { store: {} as never } })).toThrow(/option "persist.store"/)
    const store = { kind: 'x', put: async () => {}, get: async () => undefined, has: async () => false, list: async function* () {}, delete: async () => {} }
    expect(() => graceful(async () => 1, { persist: { store, key: '../escape' } })).toThrow(/option "persist.key"/)
    expect(() => graceful(async () => 1, { persist: { store, checkpointIntervalMs: -5 } })).toThrow(/option "persist.checkpointIntervalMs"/)
    try {
      graceful(async () => 1, { logger: 5 as never })
    } catch (err) {
      expect((err as { code: string }).code).toBe('SCFG_ERR_INVALID_OPTION')
    }
  })
})
