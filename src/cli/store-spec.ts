// `--store` specs for the snapshot and restore commands. One parser per scheme; stores are imported lazily so a
// command only loads what its spec names. Credentials never go in a spec: they come from the environment.
//   fs:PATH                                          a directory (local disk, CFS mount)
//   s3://BUCKET/PREFIX?endpoint=URL&region=R         S3 API (Ceph RGW, MinIO, AWS); AWS_* credentials from env
//   cos://BUCKET-APPID/PREFIX?region=ap-guangzhou    Tencent COS; TENCENTCLOUD_SECRETID/SECRETKEY from env
//   redis://HOST:PORT/DB?prefix=P (or rediss://)     Redis; a password may come from REDIS_PASSWORD
// Time bounds (query parameters): s3/cos `requestTimeoutMs`, `connectTimeoutMs`, `attempts`; redis
// `commandTimeoutMs`, `connectTimeoutMs`. A command line is waited on by a person or a script: its defaults are
// shorter than the stores' own (which suit a function's background flush), so a silent endpoint fails in seconds.
import { ScfGracefulError } from '../errors.js'
import type { SnapshotStore } from '../persistence/store.js'

function usage(message: string): ScfGracefulError {
  return new ScfGracefulError('SCFG_ERR_CLI_USAGE', message)
}

export const STORE_SPEC_HELP = 'fs:PATH | s3://BUCKET/PREFIX?endpoint=URL&region=R | cos://BUCKET-APPID/PREFIX?region=R | redis://HOST:PORT/DB?prefix=P'

type Parser = (spec: string) => Promise<SnapshotStore>

/** The CLI's bounds for S3/COS: 3 attempts of at most 10 s each (the store's own: 5 of 30 s, about 150 s in all). */
export const CLI_S3_DEFAULTS = { requestTimeoutMs: 10_000, connectTimeoutMs: 5000, attempts: 3 } as const
/** The CLI's bounds for Redis (the store's own defaults: a command fails after 10 s without an answer). */
export const CLI_REDIS_DEFAULTS = { commandTimeoutMs: 10_000, connectTimeoutMs: 5000 } as const

const S3_PARAMS = ['endpoint', 'region', 'forcePathStyle', 'requestTimeoutMs', 'connectTimeoutMs', 'attempts']
const COS_PARAMS = ['region', 'endpoint', 'requestTimeoutMs', 'connectTimeoutMs', 'attempts']
const REDIS_PARAMS = ['prefix', 'commandTimeoutMs', 'connectTimeoutMs']

/** A typo (`requestTimeout=`) must not silently leave the default in place. */
function checkParams(scheme: string, url: URL, known: string[]): void {
  for (const name of new Set(url.searchParams.keys())) {
    if (!known.includes(name)) throw usage(`--store ${scheme}://: unknown parameter ${JSON.stringify(name)} (known: ${known.join(', ')})`)
    if (url.searchParams.getAll(name).length > 1) throw usage(`--store ${scheme}://: parameter ${JSON.stringify(name)} is given more than once`)
  }
}

/** A whole-number query parameter within [min, max], or `fallback` when absent. */
function intParam(scheme: string, url: URL, name: string, fallback: number, min: number, max: number, unit: string): number {
  const raw = url.searchParams.get(name)
  if (raw === null) return fallback
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN
  if (!(n >= min && n <= max)) throw usage(`--store ${scheme}://: ${name} must be ${unit} from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  return n
}

/** A time bound in ms: at least 100, at most `max`. */
const msParam = (scheme: string, url: URL, name: string, fallback: number, max: number) => intParam(scheme, url, name, fallback, 100, max, 'a number of ms')

/** The s3Store options for the time bounds of an s3:// or cos:// spec. */
function s3Bounds(scheme: string, url: URL): { requestTimeoutMs: number; connectTimeoutMs: number; retries: number } {
  return {
    requestTimeoutMs: msParam(scheme, url, 'requestTimeoutMs', CLI_S3_DEFAULTS.requestTimeoutMs, 3_600_000),
    connectTimeoutMs: msParam(scheme, url, 'connectTimeoutMs', CLI_S3_DEFAULTS.connectTimeoutMs, 600_000),
    retries: intParam(scheme, url, 'attempts', CLI_S3_DEFAULTS.attempts, 1, 20, 'a whole number of tries') - 1,
  }
}

const parsers: Record<string, Parser> = {
  async fs(spec) {
    const dir = spec.slice('fs:'.length)
    if (!dir) throw usage('--store fs: needs a directory, e.g. fs:/mnt/cfs/state')
    const { fsStore } = await import('../stores/fs.js')
    return fsStore({ dir })
  },
  async s3(spec) {
    const url = parseUrl(spec)
    if (!url.hostname) throw usage('--store s3:// needs a bucket, e.g. s3://my-bucket/prefix?endpoint=http://127.0.0.1:7480')
    checkParams('s3', url, S3_PARAMS)
    const bounds = s3Bounds('s3', url)
    const params = url.searchParams
    const { s3Store } = await import('../stores/s3.js')
    const accessKeyId = process.env.AWS_ACCESS_KEY_ID
    const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY
    return s3Store({
      bucket: url.hostname,
      prefix: prefixOf(url),
      endpoint: params.get('endpoint') ?? undefined,
      region: params.get('region') ?? undefined,
      forcePathStyle: params.has('forcePathStyle') ? params.get('forcePathStyle') !== 'false' : undefined,
      credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken: process.env.AWS_SESSION_TOKEN || undefined } : undefined,
      ...bounds,
    })
  },
  async cos(spec) {
    const url = parseUrl(spec)
    const region = url.searchParams.get('region')
    if (!url.hostname || !region) throw usage('--store cos:// needs a bucket and a region, e.g. cos://snapshots-1250000000/my-fn?region=ap-guangzhou')
    checkParams('cos', url, COS_PARAMS)
    const bounds = s3Bounds('cos', url)
    const { cosStore } = await import('../stores/s3.js')
    return cosStore({ bucket: url.hostname, region, prefix: prefixOf(url), endpoint: url.searchParams.get('endpoint') ?? undefined, ...bounds })
  },
  async redis(spec) {
    const url = parseUrl(spec)
    if (url.username || url.password) throw usage('--store redis://: do not put a password in the spec; set REDIS_PASSWORD')
    const scheme = url.protocol.slice(0, -1)
    checkParams(scheme, url, REDIS_PARAMS)
    const prefix = url.searchParams.get('prefix') ?? undefined
    const commandTimeoutMs = msParam(scheme, url, 'commandTimeoutMs', CLI_REDIS_DEFAULTS.commandTimeoutMs, 3_600_000)
    const connectTimeoutMs = msParam(scheme, url, 'connectTimeoutMs', CLI_REDIS_DEFAULTS.connectTimeoutMs, 600_000)
    url.search = ''
    if (process.env.REDIS_PASSWORD) url.password = encodeURIComponent(process.env.REDIS_PASSWORD)
    const { redisStore } = await import('../stores/redis.js')
    return redisStore({ url: url.toString(), prefix, commandTimeoutMs, connectTimeoutMs })
  },
}
parsers.rediss = parsers.redis!

function parseUrl(spec: string): URL {
  try {
    return new URL(spec)
  } catch {
    throw usage(`--store ${JSON.stringify(spec)} is not a valid URL`)
  }
}

function prefixOf(url: URL): string | undefined {
  const p = decodeURIComponent(url.pathname.replace(/^\/+/, ''))
  return p || undefined
}

/** Builds the store a `--store` spec names; bad specs fail with SCFG_ERR_CLI_USAGE. */
export async function storeFromSpec(spec: string | undefined): Promise<SnapshotStore> {
  if (!spec) throw usage(`--store is required (${STORE_SPEC_HELP})`)
  const scheme = /^([a-z0-9]+):/.exec(spec)?.[1]
  if (scheme === 'memory') throw usage('--store memory: would be lost when the command exits; use fs:PATH, s3://, cos:// or redis://')
  const parser = scheme ? parsers[scheme] : undefined
  if (!parser) throw usage(`--store ${JSON.stringify(spec)}: unknown scheme (${STORE_SPEC_HELP})`)
  return parser(spec)
}
