// `scf-graceful snapshot` (and, through runPersistCommand, `scf-graceful restore`).
import { parseArgs } from 'node:util'
import { ScfGracefulError } from '../../errors.js'
import { silentLogger, type Logger } from '../../log.js'
import type { Progress } from '../../persistence/context.js'
import { createSnapshotter } from '../../persistence/snapshotter.js'
import type { SnapshotStore } from '../../persistence/store.js'
import { formatBytes } from '../../persistence/util.js'
import { STORE_SPEC_HELP, storeFromSpec } from '../store-spec.js'

/** Exit codes of `snapshot` and `restore` (also in the README). */
export const exitCodes = {
  ok: 0,
  error: 1,
  usage: 2,
  nothingToRestore: 3,
  invalidSnapshot: 4,
  storeUnavailable: 5,
  interrupted: 130,
} as const

const help = (command: 'snapshot' | 'restore') => `usage: scf-graceful ${command} --store SPEC [--root DIR] [--key KEY] [options]

${command === 'snapshot' ? 'Snapshots DIR into the store (incremental: only new chunks are uploaded).' : "Restores the key's current snapshot into DIR (every chunk verified)."}

  --store SPEC       ${STORE_SPEC_HELP}
  --root DIR         default: /tmp on SCF, the OS temp dir elsewhere
  --key KEY          default: $SCF_NAMESPACE/$SCF_FUNCTIONNAME (default/local)
  --include GLOB     ${command === 'snapshot' ? 'only matching files (repeatable)' : '(snapshot only)'}
  --exclude GLOB     ${command === 'snapshot' ? 'skip matching files and directories (repeatable)' : '(snapshot only)'}${command === 'snapshot' ? '\n  --keep-last N      after the snapshot, prune all but the newest N snapshots of the key' : ''}
  --concurrency N    files and chunks in flight (default 4)
  --json             print the result as JSON on stdout
  --quiet            no progress output
  -h, --help

exit codes: 0 ok, 1 error, 2 usage, 3 nothing to restore, 4 invalid or corrupt snapshot, 5 store unreachable or
denied, 130 interrupted (SIGINT/SIGTERM; the previous snapshot is intact)
`

function exitCodeFor(err: unknown): number {
  switch ((err as ScfGracefulError)?.code) {
    case 'SCFG_ERR_CLI_USAGE':
    case 'SCFG_ERR_INVALID_OPTION':
      return exitCodes.usage
    case 'SCFG_ERR_SNAPSHOT_NOT_FOUND':
      return exitCodes.nothingToRestore
    case 'SCFG_ERR_MANIFEST_INVALID':
    case 'SCFG_ERR_CHUNK_CORRUPT':
    case 'SCFG_ERR_CHUNK_MISSING':
      return exitCodes.invalidSnapshot
    case 'SCFG_ERR_STORE_UNAVAILABLE':
    case 'SCFG_ERR_STORE_AUTH':
    case 'SCFG_ERR_STORE_NOT_FOUND':
      return exitCodes.storeUnavailable
    case 'SCFG_ERR_SNAPSHOT_ABORTED':
      return exitCodes.interrupted
    default:
      return exitCodes.error
  }
}

interface ProgressView { update(p: Progress): void; stop(): void }

/** A cli-progress bar on a TTY; plain lines (at most one a second) otherwise or when cli-progress is missing. */
async function progressView(quiet: boolean): Promise<ProgressView> {
  if (quiet) return { update() {}, stop() {} }
  const stream = process.stderr
  if (stream.isTTY) {
    try {
      const { default: cliProgress } = (await import('cli-progress')) as typeof import('cli-progress') & { default: typeof import('cli-progress') }
      const started = Date.now()
      const bar = new cliProgress.SingleBar(
        {
          stream,
          format: '{phase} [{bar}] {percentage}% | {files}/{totalFiles} files | {done}/{total} | {rate}/s | ETA {eta_formatted}',
          hideCursor: true,
          etaBuffer: 50,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      )
      let begun = false
      return {
        update(p) {
          const payload = { phase: p.phase, files: p.files, totalFiles: p.totalFiles, done: formatBytes(p.bytes), total: formatBytes(p.totalBytes), rate: formatBytes(Math.round(p.bytes / Math.max(0.001, (Date.now() - started) / 1000))) }
          if (!begun) {
            begun = true
            bar.start(Math.max(1, p.totalBytes), p.bytes, payload)
          } else bar.update(p.bytes, payload)
        },
        stop: () => begun && bar.stop(),
      }
    } catch {
      // optional: fall through to plain lines
    }
  }
  let last = 0
  return {
    update(p) {
      const now = Date.now()
      if (now - last < 1000) return
      last = now
      stream.write(`${p.phase}: ${p.files}/${p.totalFiles} files, ${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)}\n`)
    },
    stop() {},
  }
}

const stderrLogger: Logger = {
  info: () => {},
  warn: (m) => process.stderr.write(`warning: ${m}\n`),
  error: (m) => process.stderr.write(`error: ${m}\n`),
}

/** Shared by `snapshot` and `restore`; returns the exit code. */
export async function runPersistCommand(command: 'snapshot' | 'restore', argv: string[]): Promise<number> {
  let store: SnapshotStore | undefined
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => controller.abort(new Error(`interrupted by ${signal}`))
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let view: ProgressView | undefined
  let json = false
  try {
    let values
    try {
      ;({ values } = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: {
          store: { type: 'string' },
          root: { type: 'string' },
          key: { type: 'string' },
          include: { type: 'string', multiple: true },
          exclude: { type: 'string', multiple: true },
          'keep-last': { type: 'string' },
          concurrency: { type: 'string' },
          json: { type: 'boolean' },
          quiet: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      }))
    } catch (err) {
      throw new ScfGracefulError('SCFG_ERR_CLI_USAGE', `${(err as Error).message}; see 'scf-graceful ${command} --help'`)
    }
    if (values.help) {
      process.stdout.write(help(command))
      return exitCodes.ok
    }
    if (command === 'restore' && (values.include || values.exclude || values['keep-last'])) {
      throw new ScfGracefulError('SCFG_ERR_CLI_USAGE', '--include, --exclude and --keep-last apply to snapshot only')
    }
    const int = (name: string, raw: string | undefined) => {
      if (raw === undefined) return undefined
      if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new ScfGracefulError('SCFG_ERR_CLI_USAGE', `--${name} must be a positive integer, got ${JSON.stringify(raw)}`)
      return Number(raw)
    }
    const keepLast = int('keep-last', values['keep-last'])
    const concurrency = int('concurrency', values.concurrency)
    json = values.json ?? false
    store = await storeFromSpec(values.store)
    const snapshotter = createSnapshotter({
      store,
      root: values.root,
      key: values.key,
      include: values.include,
      exclude: values.exclude,
      concurrency,
      logger: json ? silentLogger : stderrLogger,
    })
    view = await progressView(values.quiet ?? false)
    const options = { signal: controller.signal, onProgress: (p: Progress) => view!.update(p) }
    if (command === 'snapshot') {
      const r = await snapshotter.snapshot(options)
      const pruned = keepLast ? await snapshotter.prune({ keepLast, signal: controller.signal }) : undefined
      view.stop()
      process.stdout.write(json ? `${JSON.stringify({ ...r, root: snapshotter.root, key: snapshotter.key, pruned })}\n`
        : `snapshot ${r.id} of ${snapshotter.root} as "${snapshotter.key}": ${r.files} files, ${formatBytes(r.bytes)}, uploaded ${formatBytes(r.uploadedBytes)} (${r.unchangedFiles} files unchanged)${r.committed ? '' : '; the tree is that snapshot, nothing written'} in ${r.durationMs} ms${pruned ? `; pruned ${pruned.deletedManifests} snapshots, ${pruned.deletedChunks} chunks` : ''}\n`)
    } else {
      const r = await snapshotter.restore(options)
      view.stop()
      process.stdout.write(json ? `${JSON.stringify({ ...r, root: snapshotter.root, key: snapshotter.key })}\n`
        : `restored ${r.id} into ${snapshotter.root} from "${snapshotter.key}": ${r.files} files, ${formatBytes(r.bytes)} in ${r.durationMs} ms\n`)
    }
    return exitCodes.ok
  } catch (err) {
    view?.stop()
    const e = err as { message?: string; code?: string }
    process.stderr.write(`error: ${e?.message ?? String(err)}${e?.code ? ` (${e.code})` : ''}\n`)
    return exitCodeFor(err)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await store?.close?.().catch(() => {})
  }
}

export function run(argv: string[]): Promise<number> {
  return runPersistCommand('snapshot', argv)
}
