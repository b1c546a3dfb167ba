/**
 * What every `events` subcommand shares: the connection flags (cloud by default, `--endpoint` for the emulator),
 * credentials, the pacing/retry flags and `--json`. Flags are parsed by the CLI's one parser (../args.ts).
 */
import type { OptionSpecs } from '../args.js'
import { createSdkApi, reliableApi, type EventsApi } from './api-client.js'
import { UsageError } from './errors.js'
import type { Output } from './output.js'

/** Flags every API command accepts. */
export const connectionOptions = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'secret-id': { type: 'string' },
  'secret-key': { type: 'string' },
  rate: { type: 'string' },
  retries: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpecs

export const connectionHelp = `connection (every command):
  --endpoint URL        the emulator, e.g. http://127.0.0.1:9001 (env SCF_GRACEFUL_ENDPOINT);
                        default: the Tencent Cloud API (scf.tencentcloudapi.com)
  --region REGION       e.g. ap-guangzhou (env TENCENTCLOUD_REGION); required for the cloud
  --secret-id ID        (env TENCENTCLOUD_SECRETID)
  --secret-key KEY      (env TENCENTCLOUD_SECRETKEY; prefer the env: flags show up in ps)
                        a temporary session token is read from TENCENTCLOUD_SESSIONTOKEN
  --rate N              requests per second per API action this command allows itself (default 15; the API allows 20)
  --retries N           retries after RequestLimitExceeded, with backoff (default 5)
  --json                machine-readable output on stdout`

/** A positive integer flag, or the default. */
export function intFlag(name: string, value: string | undefined, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'up' : max}, got "${value}"`)
  }
  return n
}

export interface ConnectionValues {
  endpoint?: string | undefined
  region?: string | undefined
  'secret-id'?: string | undefined
  'secret-key'?: string | undefined
  rate?: string | undefined
  retries?: string | undefined
}

/** The endpoint URL (`--endpoint` or SCF_GRACEFUL_ENDPOINT), validated; undefined = the cloud. */
export function endpointOf(values: ConnectionValues, env = process.env): string | undefined {
  const endpoint = values.endpoint ?? env.SCF_GRACEFUL_ENDPOINT
  if (!endpoint) return undefined
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new UsageError(`--endpoint must be a URL like http://127.0.0.1:9001, got "${endpoint}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--endpoint must be http:// or https://, got "${endpoint}"`)
  if ((url.pathname !== '/' && url.pathname !== '') || url.search) throw new UsageError(`--endpoint takes no path or query (the API is POST /), got "${endpoint}"`)
  return url.origin
}

/** Builds the API client from the flags and env; credentials are checked here (usage error if missing). */
export async function connect(values: ConnectionValues, out: Output, env = process.env): Promise<EventsApi> {
  const endpoint = endpointOf(values, env)
  const secretId = values['secret-id'] ?? env.TENCENTCLOUD_SECRETID
  const secretKey = values['secret-key'] ?? env.TENCENTCLOUD_SECRETKEY
  if (!secretId || !secretKey) {
    throw new UsageError(
      `no credentials: pass --secret-id and --secret-key, or set TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY${endpoint ? ' (the emulator prints its secret id at start; see scf-graceful local --help)' : ''}`,
    )
  }
  const region = values.region ?? env.TENCENTCLOUD_REGION ?? (endpoint ? 'ap-guangzhou' : undefined)
  if (!region) throw new UsageError('no region: pass --region (e.g. ap-guangzhou) or set TENCENTCLOUD_REGION')
  const sdk = await createSdkApi({ endpoint, region, secretId, secretKey, sessionToken: env.TENCENTCLOUD_SESSIONTOKEN })
  // a synchronous Invoke lasts as long as the function (up to 900 s on SCF)
  sdk.timeoutFor('Invoke', 930)
  return reliableApi(sdk, {
    ratePerSecond: intFlag('rate', values.rate, 15, 1, 1000),
    retries: intFlag('retries', values.retries, 5, 0, 20),
    onRetry: ({ action, attempt, delayMs }) => out.err(`note: ${action} hit RequestLimitExceeded; retry ${attempt} in ${delayMs}ms`),
  })
}
