import { spawn, type ChildProcess } from 'node:child_process'
import { Agent, request, type IncomingHttpHeaders } from 'node:http'
import { fileURLToPath } from 'node:url'
import { freePort } from '../setup/servers.js'

export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

export interface Spawned {
  child: ChildProcess
  port: number
  output(): string
  waitFor(pattern: RegExp | ((output: string) => boolean), timeoutMs?: number): Promise<void>
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  kill(): void
}

/** Starts a fixture server as a real child process on a free port and waits until it logs that it listens. */
export async function spawnServer(name: string, env: Record<string, string> = {}): Promise<Spawned> {
  const port = await freePort()
  const child = spawn(process.execPath, [fixture(name)], { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const waiters = new Set<() => void>()
  const onData = (d: Buffer) => {
    out += d.toString()
    for (const w of waiters) w()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })))
  const waitFor = (pattern: RegExp | ((output: string) => boolean), timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (typeof pattern === 'function' ? pattern(out) : pattern.test(out)) {
          waiters.delete(check)
          clearTimeout(timer)
          resolve()
        }
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`timed out waiting for ${pattern} in:\n${out.slice(-3000)}`))
      }, timeoutMs)
      waiters.add(check)
      check()
    })
  await waitFor(/listening/)
  return { child, port, output: () => out, waitFor, exit, kill: () => child.kill('SIGKILL') }
}

/** Counts the lines of `output` that match `pattern` (no backtracking-prone repeated groups). */
export function countLines(output: string, pattern: RegExp): number {
  return output.split('\n').filter((line) => pattern.test(line)).length
}

export interface HttpResult {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  json(): any
}

export function post(port: number, body: unknown, options: { headers?: Record<string, string>; agent?: Agent | false; method?: string; raw?: Buffer | string; signal?: AbortSignal } = {}): Promise<HttpResult> {
  const payload = options.raw !== undefined ? Buffer.from(options.raw) : Buffer.from(JSON.stringify(body))
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: options.method ?? 'POST', path: '/event-invoke', agent: options.agent ?? false, signal: options.signal, headers: { 'content-type': 'application/json', 'content-length': String(payload.length), ...options.headers } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const buf = Buffer.concat(chunks)
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json: () => JSON.parse(buf.toString()) })
        })
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}
