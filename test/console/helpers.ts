// `scf-graceful local` (the built CLI, from the isolated copy the CLI tests use) on a chosen data dir and port, so a
// test can stop it and start it again where an open page expects it.
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cleanEnv, cliPath, fixture as cliFixture, root, until } from '../cli/events-helpers.js'

cpSync(fileURLToPath(new URL('./fixtures', import.meta.url)), join(root, 'console-fixtures'), { recursive: true })

export const fixture = (name: string): string => (name === 'work.cjs' || name === 'stubborn.cjs' ? cliFixture(name) : join(root, 'console-fixtures', name))

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export interface RunningLocal {
  child: ChildProcess
  origin: string
  port: number
  token: string
  consoleUrl: string
  output(): string
  stop(): Promise<void>
  /** POST/GET a console endpoint with the token */
  api<T = any>(path: string, body?: unknown): Promise<T>
}

export async function startLocalAt(options: { dataDir: string; port?: number; functions: Record<string, string>; extra?: string[] }): Promise<RunningLocal> {
  const args = [cliPath, 'local', '--port', String(options.port ?? 0), '--data-dir', options.dataDir, '--secret-id', 'AKIDconsoleTest0001', '--secret-key', 'consoleTestSecretKey0123456789', '--timeout', '120', '--quiet', ...(options.extra ?? [])]
  for (const [name, entry] of Object.entries(options.functions)) args.push('--function', `${name}=${entry}`)
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  const m = await until(
    'the console line',
    () => {
      if (child.exitCode !== null) throw new Error(`scf-graceful local exited ${child.exitCode}:\n${out}`)
      return /console: ((http:\/\/[^\s/]+:(\d+))\/console\?token=([\w.~-]+))/.exec(out) ?? undefined
    },
    20_000,
  )
  const origin = m[2] as string
  const token = m[4] as string
  return {
    child,
    origin,
    port: Number(m[3]),
    token,
    consoleUrl: m[1] as string,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(t)
    },
    async api(path, body) {
      const res = await fetch(`${origin}/console/api${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'X-Console-Token': token, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const data = await res.json()
      if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(data)}`)
      return data
    },
  }
}
