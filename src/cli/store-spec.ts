// `--store` specs for the snapshot and restore commands. One parser per scheme; stores are imported lazily so a
// command only loads what its spec names. Credentials never go in a spec: they come from the environment.
//   fs:PATH                                          a directory (local disk, CFS mount)
//   s3://BUCKET/PREFIX?endpoint=URL&region=R         S3 API (Ceph RGW, MinIO, AWS); AWS_* credentials from env
//   cos://BUCKET-APPID/PREFIX?region=ap-guangzhou    Tencent COS; TENCENTCLOUD_SECRETID/SECRETKEY from env
//   redis://HOST:PORT/DB?prefix=P (or rediss://)     Redis; a password may come from REDIS_PASSWORD
import { ScfGracefulError } from '../errors.js'
import type { SnapshotStore } from '../persistence/store.js'

function usage(message: string): ScfGracefulError {
  return new ScfGracefulError('SCFG_ERR_CLI_USAGE', message)
}

export const STORE_SPEC_HELP = 'fs:PATH | s3://BUCKET/PREFIX?endpoint=URL&region=R | cos://BUCKET-APPID/PREFIX?region=R | redis://HOST:PORT/DB?prefix=P'

type Parser = (spec: string) => Promise<SnapshotStore>

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
    })
  },
  async cos(spec) {
    const url = parseUrl(spec)
    const region = url.searchParams.get('region')
    if (!url.hostname || !region) throw usage('--store cos:// needs a bucket and a region, e.g. cos://snapshots-1250000000/my-fn?region=ap-guangzhou')
    const { cosStore } = await import('../stores/s3.js')
    return cosStore({ bucket: url.hostname, region, prefix: prefixOf(url), endpoint: url.searchParams.get('endpoint') ?? undefined })
  },
  async redis(spec) {
    const url = parseUrl(spec)
    if (url.username || url.password) throw usage('--store redis://: do not put a password in the spec; set REDIS_PASSWORD')
    const prefix = url.searchParams.get('prefix') ?? undefined
    url.search = ''
    if (process.env.REDIS_PASSWORD) url.password = encodeURIComponent(process.env.REDIS_PASSWORD)
    const { redisStore } = await import('../stores/redis.js')
    return redisStore({ url: url.toString(), prefix })
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
