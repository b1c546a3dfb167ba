// `--store` time bounds: the CLI's own defaults make a silent endpoint fail in seconds (the stores' defaults, meant
// for a function's background flush, took about 150 s against S3), and query parameters set them. Real `node
// dist/cli.js` child processes against startSilentServer(), a TCP server that accepts and never answers.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scratch } from '../persistence/helpers.js'
import { distBuilt } from '../setup/built.js'
import { startSilentServer } from '../setup/faults.mjs'

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
const built = distBuilt('test/cli/store-bounds.test.ts', 'cli.js')

/** Runs the CLI; killed (and the test failed by the missing exit code) after `boundMs`, far below the old ~150 s. */
async function run(args: string[], boundMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env, CI: '', AWS_ACCESS_KEY_ID: 'AKIASILENTSTORE', AWS_SECRET_ACCESS_KEY: 'silent-store-secret-key', TENCENTCLOUD_SECRETID: 'AKIDSILENT', TENCENTCLOUD_SECRETKEY: 'silent-cos-secret' }
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--no-warnings', cli, ...args], { env, timeout: boundMs, killSignal: 'SIGKILL' })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number | string | null; killed?: boolean; stdout: string; stderr: string }
    return { code: e.killed ? null : typeof e.code === 'number' ? e.code : null, stdout: e.stdout, stderr: e.stderr }
  }
}

let silent: Awaited<ReturnType<typeof startSilentServer>>
let base: { dir: string; cleanup(): Promise<void> }
beforeAll(async () => {
  silent = await startSilentServer()
  base = await scratch('scfg-store-bounds-')
})
afterAll(async () => {
  await silent?.close()
  await base?.cleanup()
})

const restore = (spec: string, boundMs?: number) => run(['restore', '--root', join(base.dir, 'r'), '--store', spec, '--key', 'silent/k'], boundMs)

describe.skipIf(!built)('--store time bounds against an endpoint that never answers', () => {
  it('s3://: the CLI defaults (3 attempts of 10 s) fail within a minute, exit 4, SCFG_ERR_STORE_UNAVAILABLE, naming the bounds', async () => {
    const before = silent.connections
    const r = await restore(`s3://silent-bucket/p?endpoint=${silent.url}`)
    expect(r.code, r.stderr).toBe(4)
    expect(r.stderr).toMatch(/^error: s3 \w+ silent-bucket\/p\/.*no answer within 10000 ms.* after 3 attempts.*\(SCFG_ERR_STORE_UNAVAILABLE\)$/m)
    expect(silent.connections - before).toBeGreaterThanOrEqual(3)
  })

  it('s3://?requestTimeoutMs=300&attempts=2: exactly those bounds', async () => {
    const before = silent.connections
    const r = await restore(`s3://silent-bucket/p?endpoint=${silent.url}&requestTimeoutMs=300&attempts=2`, 20_000)
    expect(r.code, r.stderr).toBe(4)
    expect(r.stderr).toMatch(/no answer within 300 ms.* after 2 attempts.*\(SCFG_ERR_STORE_UNAVAILABLE\)$/m)
    expect(silent.connections - before).toBe(2)
  })

  it('cos://?requestTimeoutMs=300&attempts=1: one attempt', async () => {
    const r = await restore(`cos://silent-1250000000/p?region=ap-guangzhou&endpoint=${silent.url}&requestTimeoutMs=300&attempts=1`, 20_000)
    expect(r.code, r.stderr).toBe(4)
    expect(r.stderr).toMatch(/no answer within 300 ms.*\(SCFG_ERR_STORE_UNAVAILABLE\)$/m)
  })

  it('redis://: the default (10 s per command) fails in seconds, exit 4', async () => {
    const r = await restore(`redis://127.0.0.1:${silent.port}/0`)
    expect(r.code, r.stderr).toBe(4)
    expect(r.stderr).toMatch(/^error: redis .*timed out.*\(SCFG_ERR_STORE_UNAVAILABLE\)$/im)
  })

  it('redis://?commandTimeoutMs=100000 is taken: the command still waits long after the 10 s default would have failed it', async () => {
    // killed at 25 s: with the default it had exited 4 after about 13 s
    const r = await restore(`redis://127.0.0.1:${silent.port}/0?commandTimeoutMs=100000`, 25_000)
    expect(r.code, r.stderr).toBeNull()
    expect(r.stderr).not.toMatch(/error:/)
  })
})

describe.skipIf(!built)('--store bound parameters are validated (exit 2, SCFG_ERR_CLI_USAGE, nothing contacted)', () => {
  it.each([
    ['s3://b-ucket/p?endpoint=ENDPOINT&requestTimeoutMs=0', /requestTimeoutMs must be a number of ms from 100 to 3600000, got "0"/],
    ['s3://b-ucket/p?endpoint=ENDPOINT&requestTimeoutMs=5s', /requestTimeoutMs must be a number of ms from 100 to 3600000, got "5s"/],
    ['s3://b-ucket/p?endpoint=ENDPOINT&attempts=0', /attempts must be a whole number of tries from 1 to 20, got "0"/],
    ['s3://b-ucket/p?endpoint=ENDPOINT&attempts=2.5', /attempts must be a whole number of tries from 1 to 20, got "2.5"/],
    ['s3://b-ucket/p?endpoint=ENDPOINT&connectTimeoutMs=-1', /connectTimeoutMs must be a number of ms from 100 to 600000, got "-1"/],
    ['s3://b-ucket/p?endpoint=ENDPOINT&requestTimeout=300', /unknown parameter "requestTimeout" \(known: endpoint, region, forcePathStyle, requestTimeoutMs, connectTimeoutMs, attempts\)/],
    ['s3://b-ucket/p?endpoint=ENDPOINT&attempts=2&attempts=3', /parameter "attempts" is given more than once/],
    ['cos://b-1250000000/p?region=ap-guangzhou&endpoint=ENDPOINT&attempts=x', /attempts must be a whole number of tries from 1 to 20, got "x"/],
    ['redis://127.0.0.1:PORT/0?commandTimeoutMs=abc', /commandTimeoutMs must be a number of ms from 100 to 3600000, got "abc"/],
    ['redis://127.0.0.1:PORT/0?timeout=5', /unknown parameter "timeout" \(known: prefix, commandTimeoutMs, connectTimeoutMs\)/],
  ])('%s', async (template, message) => {
    const before = silent.connections
    const r = await restore(template.replace('ENDPOINT', silent.url).replace('PORT', String(silent.port)), 20_000)
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(r.stderr).toMatch(/\(SCFG_ERR_CLI_USAGE\)/)
    expect(silent.connections).toBe(before)
  })
})
