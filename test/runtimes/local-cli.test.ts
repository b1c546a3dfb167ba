// `scf-graceful local --runtime ...` as a user runs it: the built CLI, the official client, the function's process on
// the exact runtime (its result says which Node answered); a config's per-function "runtime" wins over the flag.
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as sdk from 'tencentcloud-sdk-nodejs-scf'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeOnRuntimes, runNode, unpackedZip } from './binaries.js'
import { waitFor } from '../setup/wait.js'

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const Client = ((sdk as any).scf ?? (sdk as any).default.scf).v20180416.Client as new (c: unknown) => { Invoke(r: Record<string, unknown>): Promise<any> }

let zip: { dir: string; remove(): Promise<void> }
let data: string
beforeAll(async () => {
  zip = await unpackedZip(fixture('zip'))
  data = await mkdtemp(join(tmpdir(), 'scfg-local-rt-'))
})
afterAll(async () => {
  await zip?.remove()
  await rm(data, { recursive: true, force: true })
})

// without async execution (SCF's AsyncRunEnable off), so a RequestResponse invoke answers with the result
async function local(args: string[], check: (port: number, out: () => string) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, [CLI, 'local', '--port', '0', '--secret-id', 'AKIDrt0000000001', '--secret-key', 'rt-secret', '--data-dir', join(data, String(Math.random())), ...args, '--no-async-run', '*'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  try {
    // the function lines come before "data: DIR"
    const m = await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`the emulator exited (code ${child.exitCode}) before it started:\n${out}`)
        return /^data: /m.test(out) ? out.match(/API 3\.0 endpoint: http:\/\/127\.0\.0\.1:(\d+)/) : null
      },
      { what: () => `the emulator to start:\n${out}`, timeoutMs: 60_000, intervalMs: 50 },
    )
    await check(Number(m[1]), () => out)
  } finally {
    if (child.exitCode === null) {
      const closed = new Promise((r) => child.once('close', r))
      child.kill('SIGINT')
      await closed
    }
  }
}

const invoke = async (port: number, name: string) => {
  const scf = new Client({ credential: { secretId: 'AKIDrt0000000001', secretKey: 'rt-secret' }, region: 'ap-guangzhou', profile: { httpProfile: { endpoint: `127.0.0.1:${port}`, protocol: 'http://' } } })
  const r = await scf.Invoke({ FunctionName: name, InvocationType: 'RequestResponse', ClientContext: '{}' })
  return JSON.parse(r.Result.RetMsg)
}

describe('scf-graceful local --runtime', () => {
  it('an unknown runtime is a usage error (exit 2) naming the choices', async () => {
    const r = await runNode(process.execPath, [CLI, 'local', '--runtime', 'Nodejs20', '--function', `fn=${zip.dir}/index.js`])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--runtime expects Nodejs16\.13, Nodejs18\.15, host, got "Nodejs20"/)
  })

  it('without --runtime a function runs on the host Node, and the start line says so', async () => {
    await local(['--function', `fn=${zip.dir}/index.js`], async (port, out) => {
      expect(out()).toContain(`function default/fn (code, host Node.js ${process.version},`)
      expect(await invoke(port, 'fn')).toMatchObject({ node: process.version })
    })
  })
})

describeOnRuntimes('scf-graceful local', (runtime) => {
  const version = runtime === 'Nodejs16.13' ? 'v16.13.0' : 'v18.15.0'
  it(`--runtime ${runtime} runs --function functions on it; a config's "runtime" and SCF handler string win over the flag`, async () => {
    const config = join(data, `config-${runtime}.json`)
    await writeFile(config, JSON.stringify({ functions: { zipped: { entry: zip.dir, handler: 'index.main_handler', runtime: 'host' } } }))
    await local(['--runtime', runtime, '--function', `fn=${zip.dir}/index.js`, '--config', config], async (port, out) => {
      expect(out()).toContain(`function default/fn (code, ${runtime},`)
      expect(await invoke(port, 'fn')).toMatchObject({ node: version })
      expect(await invoke(port, 'zipped')).toMatchObject({ node: process.version })
    })
  })
})
