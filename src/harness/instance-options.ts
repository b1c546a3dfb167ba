import { statSync } from 'node:fs'
import { basename, dirname, extname, join, resolve as resolvePath } from 'node:path'
import { invalidOption } from '../errors.js'
import { parseRuntime, type RuntimeName } from '../scf/runtimes.js'
import type { FunctionMode, LogLine, StartFunctionOptions } from './types.js'

const DEFAULT_TIMEOUT_MS = 3000

/** Resolved options every mode shares. */
export interface ResolvedInstanceOptions {
  entry: string
  handler: string
  mode: FunctionMode
  env: Record<string, string>
  timeoutMs: number
  memoryMb: number
  functionName: string
  namespace: string
  qualifier: string
  tmpDir: string | undefined
  cwd: string
  onLog: ((line: LogLine) => void) | undefined
  runtime: RuntimeName
  /** The node binary the instance runs on (start-function.ts resolves it for an SCF runtime). */
  execPath: string
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * SCF's handler string `FILE.EXPORT` (FILE may have folders: `src/index.main_handler`), relative to the code's root:
 * `entry` when it is a folder, else the entry's folder. A plain export name leaves `entry` as it is.
 */
function resolveHandler(entry: string, handler: string, mode: FunctionMode): { entry: string; handler: string; root: string } {
  const isDir = isDirectory(entry)
  const root = isDir ? entry : dirname(entry)
  const dot = handler.lastIndexOf('.')
  if (mode !== 'code' || dot <= 0) return { entry, handler, root }
  const file = handler.slice(0, dot)
  const name = handler.slice(dot + 1)
  if (!/^[A-Za-z_$][\w$]*$/.test(name) || file.split('/').some((s) => s === '' || s === '..')) {
    throw invalidOption('handler', handler, "an export name or SCF's FILE.EXPORT form, e.g. 'index.main_handler'")
  }
  // SCF's runtime requires FILE from the code root: FILE.js (or FILE/index.js), as require() resolves it
  return { entry: join(root, file), handler: name, root }
}

export function resolveInstanceOptions(options: StartFunctionOptions): ResolvedInstanceOptions {
  if (!options || typeof options !== 'object') throw invalidOption('options', options, 'an object with at least `entry`')
  if (typeof options.entry !== 'string' || options.entry === '') throw invalidOption('entry', options.entry, 'the path of the function module')
  const mode = options.mode ?? 'code'
  if (mode !== 'code' && mode !== 'image' && mode !== 'job') throw invalidOption('mode', mode, "'code', 'image' or 'job'")
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) throw invalidOption('timeoutMs', timeoutMs, 'a number of ms > 0')
  if (options.handler !== undefined && (typeof options.handler !== 'string' || options.handler === '')) throw invalidOption('handler', options.handler, 'an export name or FILE.EXPORT')
  const runtime = parseRuntime(options.runtime ?? 'host')
  const given = resolvePath(options.entry)
  const { entry, handler, root } = resolveHandler(given, options.handler ?? 'main_handler', mode)
  return {
    entry,
    handler,
    mode,
    env: options.env ?? {},
    timeoutMs,
    memoryMb: options.memoryMb ?? 128,
    functionName: options.functionName ?? basename(given, extname(given)),
    namespace: options.namespace ?? 'default',
    qualifier: options.qualifier ?? '$LATEST',
    tmpDir: options.tmpDir,
    cwd: options.cwd ?? root,
    onLog: options.onLog,
    runtime,
    execPath: process.execPath,
  }
}

/** The environment an instance runs with: SCF's variables, the instance's TMPDIR, the caller's additions. */
export function instanceEnv(o: ResolvedInstanceOptions, tmpDir: string): Record<string, string> {
  const base: Record<string, string> = {}
  for (const name of ['PATH', 'HOME', 'LANG', 'NODE_OPTIONS', 'SYSTEMROOT']) {
    const v = process.env[name]
    if (v !== undefined) base[name] = v
  }
  return {
    ...base,
    TMPDIR: tmpDir,
    SCF_FUNCTIONNAME: o.functionName,
    SCF_FUNCTIONVERSION: o.qualifier,
    SCF_NAMESPACE: o.namespace,
    TENCENTCLOUD_REGION: 'ap-guangzhou',
    TENCENTCLOUD_APPID: '1250000000',
    TENCENTCLOUD_UIN: '100000000001',
    ...o.env,
  }
}

/** The context object SCF's Node.js runtime passes to a handler. */
export function runtimeContext(o: ResolvedInstanceOptions, env: Record<string, string>, requestId: string, timeoutMs: number): Record<string, unknown> {
  const environ = Object.entries({ SCF_NAMESPACE: o.namespace, SCF_FUNCTIONNAME: o.functionName, SCF_FUNCTIONVERSION: o.qualifier, ...o.env })
    .map(([k, v]) => `${k}=${v}`)
    .join(';')
  return {
    callbackWaitsForEmptyEventLoop: true,
    memory_limit_in_mb: o.memoryMb,
    time_limit_in_ms: timeoutMs,
    request_id: requestId,
    environment: JSON.stringify({ SCF_NAMESPACE: o.namespace }),
    environ,
    function_version: o.qualifier,
    function_name: o.functionName,
    namespace: o.namespace,
    tencentcloud_region: env.TENCENTCLOUD_REGION,
    tencentcloud_appid: env.TENCENTCLOUD_APPID,
    tencentcloud_uin: env.TENCENTCLOUD_UIN,
  }
}

