/**
 * Real servers for the store tests and benchmarks: `redis-server` and a throwaway single-node Ceph cluster with
 * radosgw (see ceph.sh), on free 127.0.0.1 ports, in temp dirs. Every daemon runs in its own process group so
 * stopping kills the whole group, and a guard stops them if their owner dies first; temp dirs are removed. Used by
 * test/setup/global.ts and bench/stores/index.mjs (which compiles it with esbuild into a data: URL, so it imports
 * only node: builtins).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, readFile } from 'node:fs/promises'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { waitFor } from './wait.js'

// the bench loads this file compiled into a data: URL, so the script's path is resolved only when needed
const cephScript = (): string => join(dirname(fileURLToPath(import.meta.url)), 'ceph.sh')

/** What the tests receive through `inject('servers')` (plain data: it crosses into the workers). */
export interface ServersInfo {
  redis?: { url: string; port: number }
  /** Why redis is not there (binary missing). */
  redisSkip?: string
  ceph?: { endpoint: string; port: number; region: string; accessKeyId: string; secretAccessKey: string; dir: string; conf: string }
  cephSkip?: string
}

export interface RunningServer {
  readonly port: number
  readonly child: ChildProcess
  /** Sends `signal` to the server's whole process group (e.g. SIGKILL to simulate a crash). */
  kill(signal: NodeJS.Signals): void
  stop(): Promise<void>
}

/**
 * Spawns `command` in its own process group under a tiny shell guard that takes it down when this Node process
 * dies without stopping it (a test runner killed hard), so no daemon outlives its owner.
 */
function spawnGuarded(command: string, args: string[]): ChildProcess {
  const guard = '"$@" & s=$!; trap \'kill -TERM $s 2>/dev/null; wait $s; exit 0\' TERM INT; ' +
    'while kill -0 $PPID 2>/dev/null && kill -0 $s 2>/dev/null; do sleep 1; done; kill -TERM $s 2>/dev/null; wait $s'
  const child = spawn('sh', ['-c', guard, 'guard', command, ...args], { detached: true, stdio: 'ignore' })
  child.on('error', () => undefined)
  return child
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try { process.kill(-child.pid!, signal) } catch { /* already gone */ }
}

export function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0
}

/** A port that was free a moment ago (bound to 127.0.0.1 and released). */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Resolves once something accepts TCP connections on the port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  await waitFor(
    async () => {
      const ok = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1')
        socket.once('connect', () => { socket.destroy(); resolve(true) })
        socket.once('error', () => resolve(false))
      })
      if (!ok && child && child.exitCode !== null) throw new Error(`server for port ${port} exited with ${child.exitCode}`)
      return ok
    },
    { what: `something to listen on 127.0.0.1:${port}`, timeoutMs, intervalMs: 50 },
  )
}

/** Resolves once redis answers PING (not just accepts connections: it answers -LOADING while it replays its AOF). */
async function waitForRedis(port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs
  await waitForPort(port, timeoutMs, child)
  let reply = ''
  await waitFor(
    async () => {
      reply = await new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1')
        let data = ''
        socket.setTimeout(2000, () => { socket.destroy(); resolve('') })
        socket.once('connect', () => socket.write('PING\r\n'))
        socket.on('data', (chunk) => {
          data += chunk.toString()
          if (data.includes('\r\n')) { socket.destroy(); resolve(data) }
        })
        socket.once('error', () => resolve(''))
      })
      // NOAUTH: a server with a password is up too
      if (reply.startsWith('+PONG') || reply.startsWith('-NOAUTH')) return true
      if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${child.exitCode}`)
      return false
    },
    { what: () => `redis on 127.0.0.1:${port} to answer PING (last: ${reply.trim()})`, timeoutMs: Math.max(1, deadline - Date.now()), intervalMs: 50 },
  )
}

/** Kills the child's whole process group and waits (bounded) for it to exit. */
async function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = once(child, 'exit').catch(() => undefined)
  signalGroup(child, signal)
  const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch { /* gone */ } }, 5_000)
  timer.unref()
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 8_000).unref())])
  clearTimeout(timer)
}

export interface RedisOptions {
  port?: number
  /** Keep data across a kill + restart (appendonly, fsync always) in this dir. */
  dataDir?: string
  /** Require this password (AUTH). */
  password?: string
}

/** Starts `redis-server` on 127.0.0.1 (no persistence unless `dataDir`). */
export async function startRedis(options: RedisOptions = {}): Promise<RunningServer> {
  const port = options.port ?? (await freePort())
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--protected-mode', 'no']
  if (options.dataDir) args.push('--dir', options.dataDir, '--appendonly', 'yes', '--appendfsync', 'always')
  else args.push('--appendonly', 'no')
  if (options.password) args.push('--requirepass', options.password)
  const child = spawnGuarded('redis-server', args)
  await waitForRedis(port, 30_000, child)
  return { port, child, kill: (signal) => signalGroup(child, signal), stop: () => killGroup(child) }
}

export interface RedisCluster {
  /** The masters' ports (each holds a third of the hash slots). */
  readonly ports: number[]
  stop(): Promise<void>
}

/**
 * A throwaway Redis Cluster of `masters` redis-servers on 127.0.0.1 (no replicas, no persistence), slots split by
 * `redis-cli --cluster create`; resolves once every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'scfg-redis-cluster-'))
  const nodes: RunningServer[] = []
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    await rm(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort()
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--dir', dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000']
      const child = spawnGuarded('redis-server', args)
      nodes.push({ port, child, kill: (signal) => signalGroup(child, signal), stop: () => killGroup(child) })
      await waitForRedis(port, 30_000, child)
    }
    const ports = nodes.map((n) => n.port)
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 })
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stderr || create.stdout}`)
    const deadline = Date.now() + 30_000
    for (const port of ports) {
      let info = ''
      await waitFor(
        () => (info = spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8', timeout: 5_000 }).stdout ?? '').includes('cluster_state:ok'),
        { what: () => `redis cluster node ${port} to be ok:\n${info}`, timeoutMs: Math.max(1, deadline - Date.now()), intervalMs: 100 },
      )
    }
    return { ports, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

export interface CephCluster extends RunningServer {
  readonly endpoint: string
  readonly region: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly dir: string
  readonly conf: string
}

/** Brings up ceph.sh (mon + memstore OSD + radosgw) and resolves when radosgw serves S3 with the test user. */
export async function startCeph(options: { memstoreBytes?: number; timeoutMs?: number; script?: string } = {}): Promise<CephCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'scfg-ceph-'))
  const [monPort, port] = [await freePort(), await freePort()]
  const accessKeyId = `SCFG${randomBytes(8).toString('hex').toUpperCase()}`
  const secretAccessKey = randomBytes(20).toString('base64url')
  const args = [options.script ?? cephScript(), dir, String(monPort), String(port), accessKeyId, secretAccessKey, String(options.memstoreBytes ?? 4 * 1024 ** 3)]
  const child = spawn('bash', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.setEncoding('utf8')
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => { output = (output + chunk).slice(-4000) })
  const stop = async (): Promise<void> => {
    await killGroup(child)
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ceph did not start within ${options.timeoutMs ?? 90_000} ms`)), options.timeoutMs ?? 90_000)
      timer.unref()
      child.stdout!.on('data', (chunk: string) => {
        if (chunk.includes('CEPH READY')) { clearTimeout(timer); resolve() }
      })
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`ceph.sh exited with ${code}`)) })
    })
  } catch (err) {
    const logs = await readFile(join(dir, 'log', 'client.rgw.log'), 'utf8').catch(() => '')
    await stop()
    throw new Error(`${(err as Error).message}\n${output}\n${logs.slice(-2000)}`)
  }
  return { port, child, kill: (signal) => signalGroup(child, signal), stop, endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', accessKeyId, secretAccessKey, dir, conf: join(dir, 'ceph.conf') }
}

/**
 * A second radosgw on the same cluster (same data), on its own port: a test can SIGKILL it mid-snapshot and start
 * it again on the same port without disturbing the shared one.
 */
export async function startRadosgw(ceph: { dir: string; conf: string }, port?: number): Promise<RunningServer> {
  const p = port ?? (await freePort())
  const name = `rgw${p}`
  const args = [
    '-c', ceph.conf, '-n', 'client.rgw', '-f',
    `--rgw-frontends=beast endpoint=127.0.0.1:${p}`,
    `--admin-socket=${join(ceph.dir, 'run', `${name}.asok`)}`,
    `--pid-file=${join(ceph.dir, 'run', `${name}.pid`)}`,
    `--log-file=${join(ceph.dir, 'log', `${name}.log`)}`,
  ]
  const child = spawnGuarded('radosgw', args)
  await waitForPort(p, 60_000, child)
  return { port: p, child, kill: (signal) => signalGroup(child, signal), stop: () => killGroup(child, 'SIGKILL') }
}

/** Starts redis and Ceph concurrently; a missing binary is reported in `*Skip` (the tests decide skip vs fail). */
export async function startServers(options: { ceph?: boolean; redis?: boolean } = {}): Promise<{ info: ServersInfo; stop(): Promise<void> }> {
  const info: ServersInfo = {}
  const running: RunningServer[] = []
  const wantRedis = options.redis ?? true
  const wantCeph = options.ceph ?? true
  const tasks: Promise<void>[] = []
  if (wantRedis) {
    if (!hasBinary('redis-server')) info.redisSkip = 'redis-server is not installed (apt-get install redis-server)'
    else tasks.push(startRedis().then((r) => { running.push(r); info.redis = { url: `redis://127.0.0.1:${r.port}`, port: r.port } }))
  }
  if (wantCeph) {
    const missing = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin'].filter((b) => !hasBinary(b))
    if (missing.length > 0) info.cephSkip = `${missing.join(', ')} not installed (apt-get install radosgw ceph-mon ceph-osd)`
    else tasks.push(startCeph().then((c) => {
      running.push(c)
      info.ceph = { endpoint: c.endpoint, port: c.port, region: c.region, accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, dir: c.dir, conf: c.conf }
    }))
  }
  const results = await Promise.allSettled(tasks)
  const stop = async (): Promise<void> => { await Promise.all(running.map((r) => r.stop())) }
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) {
    await stop()
    throw failed.reason
  }
  return { info, stop }
}
