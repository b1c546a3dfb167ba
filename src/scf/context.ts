/**
 * The SCF invocation context: as the Node.js runtime passes it (snake_case, types not documented), as image
 * functions receive it (X-Scf-* headers), as job images get it (environment), and normalized into one shape.
 */

/** The context object as SCF's Node.js runtime passes it to `main_handler`. Numbers may arrive as strings. */
export interface ScfRuntimeContext {
  request_id?: string
  memory_limit_in_mb?: number | string
  time_limit_in_ms?: number | string
  function_name?: string
  function_version?: string
  namespace?: string
  tencentcloud_region?: string
  tencentcloud_appid?: string
  tencentcloud_uin?: string
  environment?: string
  /** `k=v;k=v` */
  environ?: string
  callbackWaitsForEmptyEventLoop?: boolean
  [key: string]: unknown
}

/** Temporary credentials SCF hands the function. Never logged; not enumerable on the context. */
export interface ScfCredentials {
  secretId: string
  secretKey: string
  sessionToken?: string
}

/**
 * The context every handler receives: the runtime's own fields (kept, for code written against them) plus
 * normalized camelCase ones.
 *
 * @example
 * graceful(async (event, context) => {
 *   console.log(context.requestId, context.timeLimitMs, context.env.MY_SETTING)
 * })
 */
export interface ScfContext extends ScfRuntimeContext {
  requestId: string
  functionName: string
  functionVersion: string
  namespace: string
  /** MB, or undefined when the platform did not say. */
  memoryLimitMb: number | undefined
  /** The invocation's timeout in ms, or undefined when the platform did not say. */
  timeLimitMs: number | undefined
  region: string | undefined
  appId: string | undefined
  uin: string | undefined
  /** `environ` parsed into an object. */
  env: Record<string, string>
  /** `Timer` for timer triggers (image functions: X-Scf-Trigger-Src). */
  triggerSource: string | undefined
  /** The temporary credentials, when the platform passed them (non-enumerable, so JSON and logs never show them). */
  readonly credentials: ScfCredentials | undefined
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim())
    return Number.isFinite(n) && n >= 0 ? n : undefined
  }
  return undefined
}

function toText(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value
  if (typeof value === 'number') return String(value)
  return undefined
}

/** Parses SCF's `environ` string (`k=v;k=v`); values may contain `=`. */
export function parseEnviron(environ: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (typeof environ !== 'string') return out
  for (const pair of environ.split(';')) {
    const eq = pair.indexOf('=')
    if (eq <= 0) continue
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1)
  }
  return out
}

let fallbackCounter = 0
function fallbackRequestId(): string {
  // crypto.randomUUID would cost an import at cold start; a local id is enough when the platform gave none
  fallbackCounter += 1
  return `local-${process.pid}-${Date.now().toString(36)}-${fallbackCounter}`
}

const kCredentials = Symbol('credentials')

/**
 * The context's prototype: `credentials` is a getter here, so it is neither an own nor an enumerable property
 * (JSON.stringify, spreading and logging never see the keys) and costs nothing to set up per invocation.
 */
class ContextBase {
  declare [kCredentials]: ScfCredentials | undefined | null
  get credentials(): ScfCredentials | undefined {
    // read lazily: most handlers never ask, and process.env reads are slow
    let c = this[kCredentials]
    if (c === undefined) {
      c = credentialsFromEnv((this as unknown as { [kEnv]?: NodeJS.ProcessEnv })[kEnv] ?? process.env) ?? null
      Object.defineProperty(this, kCredentials, { value: c, enumerable: false, writable: true })
    }
    return c ?? undefined
  }
}
const kEnv = Symbol('env')

function withCredentials<T extends object>(context: T, credentials: ScfCredentials | undefined, env: NodeJS.ProcessEnv): T {
  if (credentials) Object.defineProperty(context, kCredentials, { value: credentials, enumerable: false, writable: true })
  else if (env !== process.env) Object.defineProperty(context, kEnv, { value: env, enumerable: false })
  return context
}

/** Environment-derived defaults, read once per env object (process.env reads cost about a microsecond each). */
interface EnvDefaults {
  functionName: string
  functionVersion: string
  namespace: string
  region: string | undefined
  appId: string | undefined
  uin: string | undefined
}
let cachedDefaults: EnvDefaults | undefined
function envDefaults(env: NodeJS.ProcessEnv): EnvDefaults {
  if (env === process.env && cachedDefaults) return cachedDefaults
  const d: EnvDefaults = {
    functionName: env.SCF_FUNCTIONNAME ?? '',
    functionVersion: env.SCF_FUNCTIONVERSION ?? '$LATEST',
    namespace: env.SCF_NAMESPACE ?? 'default',
    region: env.TENCENTCLOUD_REGION,
    appId: env.TENCENTCLOUD_APPID,
    uin: env.TENCENTCLOUD_UIN,
  }
  if (env === process.env) cachedDefaults = d
  return d
}

/** Normalizes the context SCF's Node.js runtime passes (tolerates a missing or partial one). */
export function normalizeContext(raw: unknown, env: NodeJS.ProcessEnv = process.env): ScfContext {
  const r = (raw && typeof raw === 'object' ? raw : {}) as ScfRuntimeContext
  const d = envDefaults(env)
  const context = Object.assign(Object.create(ContextBase.prototype) as ScfContext, r)
  context.requestId = toText(r.request_id) ?? fallbackRequestId()
  context.functionName = toText(r.function_name) ?? d.functionName
  context.functionVersion = toText(r.function_version) ?? d.functionVersion
  context.namespace = toText(r.namespace) ?? d.namespace
  context.memoryLimitMb = toNumber(r.memory_limit_in_mb)
  context.timeLimitMs = toNumber(r.time_limit_in_ms)
  context.region = toText(r.tencentcloud_region) ?? d.region
  context.appId = toText(r.tencentcloud_appid) ?? d.appId
  context.uin = toText(r.tencentcloud_uin) ?? d.uin
  context.env = parseEnviron(r.environ)
  context.triggerSource = undefined
  return withCredentials(context, undefined, env)
}

function credentialsFromEnv(env: NodeJS.ProcessEnv): ScfCredentials | undefined {
  if (!env.TENCENTCLOUD_SECRETID || !env.TENCENTCLOUD_SECRETKEY) return undefined
  return { secretId: env.TENCENTCLOUD_SECRETID, secretKey: env.TENCENTCLOUD_SECRETKEY, sessionToken: env.TENCENTCLOUD_SESSIONTOKEN }
}

/**
 * X-Scf-Timeout's unit is not documented. A plain number is read as seconds (SCF configures timeouts in seconds);
 * a value with an `ms` suffix as milliseconds, with an `s` suffix as seconds.
 */
export function parseTimeoutHeader(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/i.exec(value)
  if (!m) return undefined
  const n = Number(m[1])
  return m[2]?.toLowerCase() === 'ms' ? n : n * 1000
}

/** X-Scf-Memory: MB (a `MB`/`M` suffix is accepted). */
export function parseMemoryHeader(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const m = /^\s*(\d+)\s*(mb|m)?\s*$/i.exec(value)
  return m ? Number(m[1]) : undefined
}

type HeaderBag = Record<string, string | string[] | undefined>

function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** Builds the context of an image function invocation from its X-Scf-* headers (Node lower-cases header names). */
export function contextFromHeaders(headers: HeaderBag, env: NodeJS.ProcessEnv = process.env): ScfContext {
  const h = (name: string) => header(headers, name)
  const timeLimitMs = parseTimeoutHeader(h('x-scf-timeout'))
  const memoryLimitMb = parseMemoryHeader(h('x-scf-memory'))
  const context = Object.assign(Object.create(ContextBase.prototype) as ScfContext, {
    request_id: h('x-scf-request-id'),
    memory_limit_in_mb: memoryLimitMb,
    time_limit_in_ms: timeLimitMs,
    function_name: h('x-scf-name'),
    function_version: h('x-scf-version'),
    tencentcloud_region: h('x-scf-region'),
    tencentcloud_appid: h('x-scf-appid'),
    tencentcloud_uin: h('x-scf-uin'),
    requestId: h('x-scf-request-id') || fallbackRequestId(),
    functionName: h('x-scf-name') ?? env.SCF_FUNCTIONNAME ?? '',
    functionVersion: h('x-scf-version') ?? env.SCF_FUNCTIONVERSION ?? '$LATEST',
    namespace: h('x-scf-namespace') ?? env.SCF_NAMESPACE ?? 'default',
    memoryLimitMb,
    timeLimitMs,
    region: h('x-scf-region') ?? env.TENCENTCLOUD_REGION,
    appId: h('x-scf-appid') ?? env.TENCENTCLOUD_APPID,
    uin: h('x-scf-uin') ?? env.TENCENTCLOUD_UIN,
    env: {},
    triggerSource: h('x-scf-trigger-src'),
  })
  const secretId = h('x-scf-secret-id')
  const secretKey = h('x-scf-secret-key')
  const credentials = secretId && secretKey ? { secretId, secretKey, sessionToken: h('x-scf-session-token') } : undefined
  return withCredentials(context, credentials, env)
}

/** Builds the context of a Job image function from its environment (SCF_* and TENCENTCLOUD_* variables). */
export function contextFromEnv(env: NodeJS.ProcessEnv = process.env): ScfContext {
  return normalizeContext(
    {
      request_id: env.SCF_REQUEST_ID,
      memory_limit_in_mb: env.SCF_MEMORY,
      time_limit_in_ms: parseTimeoutHeader(env.SCF_TIMEOUT),
      function_name: env.SCF_FUNCTIONNAME,
      function_version: env.SCF_FUNCTIONVERSION,
      namespace: env.SCF_NAMESPACE,
    },
    env,
  )
}
