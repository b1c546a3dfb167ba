import { fileURLToPath } from 'node:url'
import * as sdk from 'tencentcloud-sdk-nodejs-scf'
// the harness from source (its code-mode child runs the built dist/harness/code-runtime.js, see codeRuntimeFile)
import { startFunction } from '../../src/testing/index.js'
import { startLocalServer, type LocalServer, type LocalServerOptions } from '../../src/emulator/server.js'
import { waitFor } from '../setup/wait.js'

export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

// the SDK ships CJS and ESM builds; either exposes `scf`
const scfNs = ((sdk as unknown as { scf?: unknown }).scf ?? (sdk as unknown as { default: { scf: unknown } }).default.scf) as {
  v20180416: { Client: new (config: unknown) => ScfClient }
}

/** The calls of the official client that the tests use. */
export interface ScfClient {
  Invoke(req: Record<string, unknown>): Promise<any>
  InvokeFunction(req: Record<string, unknown>): Promise<any>
  ListAsyncEvents(req: Record<string, unknown>): Promise<any>
  GetAsyncEventStatus(req: Record<string, unknown>): Promise<any>
  TerminateAsyncEvent(req: Record<string, unknown>): Promise<any>
}

/** The official client pointed at the emulator, exactly as a user would configure it. */
export function client(local: LocalServer, credential = { secretId: local.secretId, secretKey: local.secretKey }, style: { reqMethod?: 'GET' | 'POST'; signMethod?: 'TC3-HMAC-SHA256' | 'HmacSHA1' | 'HmacSHA256' } = {}): ScfClient {
  return new scfNs.v20180416.Client({
    credential,
    region: 'ap-guangzhou',
    // the SDK's own request-style options: GET with a query string, signature v1 (form POST or GET)
    profile: { ...(style.signMethod ? { signMethod: style.signMethod } : {}), httpProfile: { endpoint: `127.0.0.1:${local.port}`, protocol: 'http://', reqTimeout: 60, ...(style.reqMethod ? { reqMethod: style.reqMethod } : {}) } },
  })
}

export async function startEmulator(options: LocalServerOptions): Promise<{ local: LocalServer; scf: ScfClient }> {
  const local = await startLocalServer({ port: 0, rateLimit: false, startFunction, ...options })
  return { local, scf: client(local) }
}

/** Polls GetAsyncEventStatus (bounded) until the event is no longer RUNNING. */
export async function waitForEnd(scf: ScfClient, id: string, timeoutMs = 30_000): Promise<{ Status: string; StatusCode: number }> {
  return waitFor(
    async () => {
      const r = await scf.GetAsyncEventStatus({ InvokeRequestId: id })
      return r.Result.Status !== 'RUNNING' ? (r.Result as { Status: string; StatusCode: number }) : undefined
    },
    { what: `event ${id} to end (still RUNNING)`, timeoutMs, intervalMs: 60 },
  )
}

/** Waits (bounded) until the event's log has a line matching `re`. */
export async function waitForLog(local: LocalServer, id: string, re: RegExp, timeoutMs = 20_000): Promise<string> {
  const hit = await waitFor(() => local.emulator.getEventLogs(id).find((l) => re.test(l.line)), {
    what: () => `a log line ${re} for ${id}; got:\n${local.emulator.getEventLogs(id).map((l) => l.line).join('\n')}`,
    timeoutMs,
    intervalMs: 30,
  })
  return hit.line
}

/** The SDK's rejection, as { code, message, requestId }. */
export async function apiError(p: Promise<unknown>): Promise<{ code: string; message: string; requestId: string }> {
  try {
    await p
  } catch (err) {
    const e = err as { code?: string; message: string; requestId?: string }
    return { code: e.code ?? '(none)', message: e.message, requestId: e.requestId ?? '' }
  }
  throw new Error('expected the API call to fail')
}
