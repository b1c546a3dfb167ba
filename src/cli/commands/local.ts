/**
 * `scf-graceful local`: the SCF async-execution emulator on 127.0.0.1, speaking the Tencent Cloud API, with its
 * web console. Prints one line per event state change and each event's log lines prefixed by its id.
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve as resolvePath } from 'node:path'
import type { AsyncEventRecord, LocalFunctionConfig, ReloadInfo } from '../../emulator/emulator.js'
import { startLocalServer, type LocalServerOptions } from '../../emulator/server.js'
import { CONSOLE_TOKEN_RE } from '../../emulator/console/token-file.js'
import { abortedPromise } from '../../shutdown/controller.js'
import { didYouMean, parseCommandLine } from '../args.js'
import { exitCodesHelp, UsageError } from '../exit-codes.js'
import { interruptible } from '../interrupt.js'
import { parseRuntime, runtimeNames, type RuntimeName } from '../../scf/runtimes.js'
import { neutralizeControls } from '../terminal-text.js'
import { formatClock, parseTimeZone, type TimeZone } from '../time-zone.js'

const USAGE = `usage: scf-graceful local [options]

  --function NAME=ENTRY[:EXPORT]  serve a code function (repeatable); EXPORT defaults to main_handler
  --config FILE                   JSON: { "functions": { "NAME": { "entry", "mode": "code|image|job", "handler"
                                  (EXPORT, or SCF's "index.main_handler" with "entry" the code folder), "runtime",
                                  "timeout" (s) | "timeoutMs", "memory" (MB), "env", "namespace", "qualifier",
                                  "concurrency", "asyncRunEnable", "traceEnable" } }, "port", "host", "dataDir",
                                  "rateLimit" } (paths relative to FILE)
  --runtime Nodejs16.13|Nodejs18.15|host
                                  the Node.js functions run on unless their config names one: SCF's exact
                                  binaries (downloaded once, see \`scf-graceful runtimes install\`) or this one
                                  (default host)
  --port P                        default 9001 (0 = any free port)
  --host H                        default 127.0.0.1 (loopback only)
  --secret-id ID --secret-key KEY credentials the API accepts; without them a pair is generated
  --print-secret                  print the (generated) SecretKey too
  --data-dir DIR                  event records and logs (JSON-lines journals), console token; default .scf-local
  --console-token TOKEN           pin the console's token (8+ of A-Z a-z 0-9 . _ ~ -); default: kept in DIR/console-token
                                  (mode 0600), so the console URL stays the same across restarts
  --timeout SECONDS               default timeout of --function functions (default 3, as SCF)
  --concurrency N                 instances per function (default 10)
  --no-async-run NAME             serve NAME without async execution (SCF's AsyncRunEnable off): RequestResponse
                                  returns the result, timeout up to 900 s, no event tracking (repeatable; * = all)
  --no-trace NAME                 async execution without status tracing (TraceEnable off): the event APIs do not
                                  see NAME's events (repeatable; * = all)
  --rate-limit N|off              requests per second per action (default: Invoke 100, event APIs 20, as SCF)
  --watch                         when a function's files change, replace its idle instances (running events
                                  finish on the old code) and say so
  --quiet                         do not print event log lines, only state changes
  --tz ZONE                       times in ZONE: UTC+8 (default, as SCF shows them), UTC, UTC-5, +05:30, local

A function's log lines are printed as data: escape sequences in them show as text (\x1b[...), they do not act on
the terminal.

Ctrl-C (or SIGTERM) stops the emulator: running events end FAILED/500, then it exits 130 (143); a second Ctrl-C
exits at once.
${exitCodesHelp}
`

function usageError(message: string): UsageError {
  return new UsageError(message)
}

function runtimeOption(value: unknown, where: string): RuntimeName {
  try {
    return parseRuntime(value)
  } catch {
    throw usageError(`${where} expects ${runtimeNames.join(', ')}, got ${JSON.stringify(value)}`)
  }
}

/** Downloads the SCF runtimes the functions need before serving (a progress bar), so offline fails now, once. */
async function prefetchRuntimes(names: RuntimeName[]): Promise<void> {
  const wanted = [...new Set(names)].filter((n) => n !== 'host')
  if (!wanted.length) return
  const { resolveRuntime, progressBar } = await import('../../runtime-cache/index.js')
  for (const name of wanted) await resolveRuntime(name, { onProgress: progressBar() })
}

interface ConfigFile {
  functions?: Record<string, Partial<FileFunction>> | Array<Partial<FileFunction> & { name: string }>
  port?: number
  host?: string
  dataDir?: string
  rateLimit?: number | false
}

interface FileFunction {
  entry: string
  mode: 'code' | 'image' | 'job'
  handler: string
  runtime: string
  timeout: number
  timeoutMs: number
  memory: number
  env: Record<string, string>
  namespace: string
  qualifier: string
  concurrency: number
  asyncRunEnable: boolean
  traceEnable: boolean
}

/** Parses `NAME=ENTRY[:EXPORT]`. */
export function parseFunctionFlag(value: string, timeoutMs: number): LocalFunctionConfig {
  const eq = value.indexOf('=')
  if (eq <= 0 || eq === value.length - 1) throw usageError(`--function expects NAME=ENTRY[:EXPORT], got ${JSON.stringify(value)}`)
  const name = value.slice(0, eq)
  let entry = value.slice(eq + 1)
  let handler: string | undefined
  const colon = entry.lastIndexOf(':')
  if (colon > 0 && /^[A-Za-z_$][\w$]*$/.test(entry.slice(colon + 1))) {
    handler = entry.slice(colon + 1)
    entry = entry.slice(0, colon)
  }
  return { name, entry: resolvePath(entry), timeoutMs, ...(handler ? { handler } : {}) }
}

function fromConfig(file: string): { functions: LocalFunctionConfig[]; rest: ConfigFile } {
  let raw: ConfigFile
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as ConfigFile
  } catch (err) {
    throw usageError(`--config ${file}: ${(err as Error).message}`)
  }
  const base = dirname(resolvePath(file))
  const list = Array.isArray(raw.functions) ? raw.functions : Object.entries(raw.functions ?? {}).map(([name, f]) => ({ ...f, name }))
  const functions = list.map((f): LocalFunctionConfig => {
    if (typeof f?.entry !== 'string') throw usageError(`--config ${file}: function ${JSON.stringify(f?.name)} needs an "entry"`)
    const c: LocalFunctionConfig = { name: f.name, entry: resolvePath(base, f.entry) }
    if (f.mode !== undefined) c.mode = f.mode
    if (f.handler !== undefined) c.handler = f.handler
    if (f.runtime !== undefined) c.runtime = runtimeOption(f.runtime, `--config ${file}: function ${JSON.stringify(f.name)} "runtime"`)
    if (f.timeoutMs !== undefined) c.timeoutMs = f.timeoutMs
    else if (f.timeout !== undefined) c.timeoutMs = f.timeout * 1000
    if (f.memory !== undefined) c.memoryMb = f.memory
    if (f.env !== undefined) c.env = f.env
    if (f.namespace !== undefined) c.namespace = f.namespace
    if (f.qualifier !== undefined) c.qualifier = f.qualifier
    if (f.concurrency !== undefined) c.concurrency = f.concurrency
    if (f.asyncRunEnable !== undefined) c.asyncRunEnable = f.asyncRunEnable
    if (f.traceEnable !== undefined) c.traceEnable = f.traceEnable
    return c
  })
  return { functions, rest: raw }
}

function describe(record: AsyncEventRecord, tz: TimeZone): string {
  const took = record.endTime === null ? '' : ` after ${record.endTime - record.startTime} ms`
  const code = record.status === 'RUNNING' ? '' : ` ${record.statusCode}`
  return `${formatClock(record.endTime ?? record.startTime, tz)} ${record.requestId} ${record.status}${code} ${record.namespace}/${record.functionName}${took}`
}

function describeReload(r: ReloadInfo, tz: TimeZone): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  const running = r.busy ? `; ${plural(r.busy, 'running event')} finish${r.busy === 1 ? 'es' : ''} on the old code` : ''
  return `${formatClock(Date.now(), tz)} reloaded ${r.namespace}/${r.name}: ${r.file} changed; ${plural(r.idle, 'idle instance')} replaced${running}`
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv, {
    function: { type: 'string', multiple: true },
    config: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'secret-id': { type: 'string' },
    'secret-key': { type: 'string' },
    'print-secret': { type: 'boolean' },
    'data-dir': { type: 'string' },
    'console-token': { type: 'string' },
    timeout: { type: 'string' },
    concurrency: { type: 'string' },
    'rate-limit': { type: 'string' },
    runtime: { type: 'string' },
    'no-async-run': { type: 'string', multiple: true },
    'no-trace': { type: 'string', multiple: true },
    watch: { type: 'boolean' },
    quiet: { type: 'boolean' },
    tz: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const num = (flag: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isFinite(n) || n < min) throw usageError(`--${flag} expects a number >= ${min}, got ${JSON.stringify(v)}`)
    return n
  }
  const timeoutMs = (num('timeout', values.timeout, 0.001) ?? 3) * 1000
  const tz = parseTimeZone(values.tz)
  const fromFile = values.config ? fromConfig(values.config) : { functions: [], rest: {} as ConfigFile }
  const functions = [...fromFile.functions, ...(values.function ?? []).map((f) => parseFunctionFlag(f, timeoutMs))]
  if (!functions.length) throw usageError('no function to serve: give --function NAME=ENTRY or --config FILE')
  const runtime = values.runtime === undefined ? undefined : runtimeOption(values.runtime, '--runtime')
  for (const f of functions) f.runtime ??= runtime ?? 'host'
  await prefetchRuntimes(functions.map((f) => f.runtime!))
  const pick = (flag: string, names: string[] | undefined, apply: (f: LocalFunctionConfig) => void) => {
    for (const name of names ?? []) {
      const matched = functions.filter((f) => name === '*' || f.name === name)
      if (!matched.length) throw usageError(`--${flag} ${name}: no such function${didYouMean(name, functions.map((f) => f.name))}`)
      matched.forEach(apply)
    }
  }
  pick('no-async-run', values['no-async-run'], (f) => {
    f.asyncRunEnable = false
    // status tracing exists for async-execution functions only
    f.traceEnable = false
  })
  pick('no-trace', values['no-trace'], (f) => (f.traceEnable = false))
  if ((values['secret-id'] === undefined) !== (values['secret-key'] === undefined)) throw usageError('--secret-id and --secret-key go together')
  let rateLimit: number | false | undefined = fromFile.rest.rateLimit
  if (values['rate-limit'] !== undefined) rateLimit = values['rate-limit'] === 'off' ? false : num('rate-limit', values['rate-limit'], 1)

  const out = (line: string) => process.stdout.write(`${line}\n`)
  const options: LocalServerOptions = {
    functions,
    port: num('port', values.port, 0) ?? fromFile.rest.port ?? 9001,
    host: values.host ?? fromFile.rest.host ?? '127.0.0.1',
    dataDir: resolvePath(values['data-dir'] ?? fromFile.rest.dataDir ?? '.scf-local'),
    logger: { info: out, warn: (m) => process.stderr.write(`warning: ${m}\n`), error: (m) => process.stderr.write(`error: ${m}\n`) },
  }
  if (rateLimit !== undefined) options.rateLimit = rateLimit
  if (values.watch) options.watch = true
  const concurrency = num('concurrency', values.concurrency, 1)
  if (concurrency !== undefined) options.concurrency = concurrency
  if (values['console-token'] !== undefined) {
    if (!CONSOLE_TOKEN_RE.test(values['console-token'])) throw usageError(`--console-token expects 8-256 characters of A-Z a-z 0-9 . _ ~ -, got ${values['console-token'].length} character(s)`)
    options.consoleToken = values['console-token']
  }
  if (values['secret-id'] !== undefined) {
    options.secretId = values['secret-id']
    options.secretKey = values['secret-key'] as string
  }
  return interruptible('local', async (signal) => {
    const local = await startLocalServer(options)
    if (values['secret-id'] === undefined) {
      out(`generated credentials: SecretId ${local.secretId}${values['print-secret'] ? ` SecretKey ${local.secretKey}` : ' (SecretKey hidden: --print-secret shows it, or choose a pair with --secret-id/--secret-key)'}`)
    } else if (values['print-secret']) {
      out(`credentials: SecretId ${local.secretId} SecretKey ${local.secretKey}`)
    }
    const runtimeOf = (name: string, namespace: string) => {
      const r = functions.find((c) => c.name === name && (c.namespace ?? 'default') === namespace)?.runtime ?? 'host'
      return r === 'host' ? `host Node.js ${process.version}` : r
    }
    for (const f of local.emulator.listFunctions()) {
      const execution = f.asyncRunEnable ? `async execution${f.traceEnable ? ' with status tracing' : ', no status tracing'}` : 'no async execution'
      out(`function ${f.namespace}/${f.name} (${f.mode}, ${runtimeOf(f.name, f.namespace)}, timeout ${f.timeoutMs} ms, ${f.qualifier}, ${execution})`)
    }
    out(`data: ${options.dataDir}`)
    local.emulator.on('event-change', (record: AsyncEventRecord) => out(describe(record, tz)))
    if (values.watch) {
      out('watching the functions\' folders: a change replaces idle instances')
      local.emulator.on('reload', (r: ReloadInfo) => out(describeReload(r, tz)))
    }
    if (!values.quiet) local.emulator.on('log', (l: { requestId: string; line: string }) => out(`${l.requestId} | ${neutralizeControls(l.line)}`))
    // the emulator runs until a signal: the shutdown core aborts this command's signal (a second Ctrl-C exits at once)
    await abortedPromise(signal)
    out(`${(signal.reason as { reason?: string })?.reason ?? 'signal'}: stopping the emulator (running events end FAILED/500)`)
    await local.close()
    return 0
  })
}
