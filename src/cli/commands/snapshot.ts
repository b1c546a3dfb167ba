// `scf-graceful snapshot` (and, through runPersistCommand, `scf-graceful restore`).
import { parseCommandLine } from '../args.js'
import { exitCodes, UsageError } from '../exit-codes.js'
import { interruptible } from '../interrupt.js'
import { silentLogger, type Logger } from '../../log.js'
import type { Progress } from '../../persistence/context.js'
import { createSnapshotter } from '../../persistence/snapshotter.js'
import type { SnapshotStore } from '../../persistence/store.js'
import { formatBytes } from '../../persistence/util.js'
import { createProgressBar } from '../progress.js'
import { STORE_SPEC_HELP, storeFromSpec } from '../store-spec.js'

const help = (command: 'snapshot' | 'restore') => `usage: scf-graceful ${command} --store SPEC [--root DIR] [--key KEY] [options]

${command === 'snapshot' ? 'Snapshots DIR into the store (incremental: only new chunks are uploaded).' : "Restores the key's current snapshot into DIR (every chunk verified)."}

  --store SPEC       ${STORE_SPEC_HELP}
                     time bounds (query parameters): s3:// and cos:// requestTimeoutMs (default 10000),
                     connectTimeoutMs (5000), attempts (3); redis:// commandTimeoutMs (10000), connectTimeoutMs (5000)
  --root DIR         default: /tmp on SCF, the OS temp dir elsewhere
  --key KEY          default: $SCF_NAMESPACE/$SCF_FUNCTIONNAME (default/local)
  --include GLOB     ${command === 'snapshot' ? 'only matching files (repeatable)' : '(snapshot only)'}
  --exclude GLOB     ${command === 'snapshot' ? 'skip matching files and directories (repeatable)' : '(snapshot only)'}${command === 'snapshot' ? '\n  --keep-last N      after the snapshot, prune all but the newest N snapshots of the key' : ''}
  --concurrency N    files and chunks in flight (default 4)
  --json             print the result as JSON on stdout
  --quiet            no progress output
  -h, --help

exit codes: 0 ok, 1 failed (an invalid or corrupt snapshot, a store error), 2 usage, 3 nothing to restore, 4 store
unreachable, 5 store denied the credentials, 130/143 interrupted by SIGINT/SIGTERM (the previous snapshot is intact)
`

interface ProgressView { update(p: Progress): void; stop(): void }

/** The CLI's progress bar in MiB with the file count; nothing with --quiet. */
function progressView(command: 'snapshot' | 'restore', quiet: boolean): ProgressView {
  const bar = createProgressBar({ label: command, unit: 'bytes', silent: quiet })
  return {
    update: (p) => bar.update(p.bytes, p.totalBytes, `${p.files}/${p.totalFiles} files`),
    stop: () => bar.end(),
  }
}

const stderrLogger: Logger = {
  info: () => {},
  warn: (m) => process.stderr.write(`warning: ${m}\n`),
  error: (m) => process.stderr.write(`error: ${m}\n`),
}

const options = {
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
} as const

/** Shared by `snapshot` and `restore`; returns the exit code (errors are thrown: the CLI maps them to the table). */
export async function runPersistCommand(command: 'snapshot' | 'restore', argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv, options)
  if (values.help) {
    process.stdout.write(help(command))
    return exitCodes.ok
  }
  if (command === 'restore' && (values.include || values.exclude || values['keep-last'])) {
    throw new UsageError('--include, --exclude and --keep-last apply to snapshot only')
  }
  const int = (name: string, raw: string | undefined) => {
    if (raw === undefined) return undefined
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`)
    return Number(raw)
  }
  const keepLast = int('keep-last', values['keep-last'])
  const concurrency = int('concurrency', values.concurrency)
  const json = values.json ?? false
  return interruptible(command, async (signal) => {
    let store: SnapshotStore | undefined
    let view: ProgressView | undefined
    try {
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
      view = progressView(command, values.quiet ?? false)
      const progress = { signal, onProgress: (p: Progress) => view!.update(p) }
      if (command === 'snapshot') {
        const r = await snapshotter.snapshot(progress)
        const pruned = keepLast ? await snapshotter.prune({ keepLast, signal }) : undefined
        view.stop()
        process.stdout.write(json ? `${JSON.stringify({ ...r, root: snapshotter.root, key: snapshotter.key, pruned })}\n`
          : `snapshot ${r.id} of ${snapshotter.root} as "${snapshotter.key}": ${r.files} files, ${formatBytes(r.bytes)}, uploaded ${formatBytes(r.uploadedBytes)} (${r.unchangedFiles} files unchanged)${r.committed ? '' : '; the tree is that snapshot, nothing written'} in ${r.durationMs} ms${pruned ? `; pruned ${pruned.deletedManifests} snapshots, ${pruned.deletedChunks} chunks` : ''}\n`)
      } else {
        const r = await snapshotter.restore(progress)
        view.stop()
        process.stdout.write(json ? `${JSON.stringify({ ...r, root: snapshotter.root, key: snapshotter.key })}\n`
          : `restored ${r.id} into ${snapshotter.root} from "${snapshotter.key}": ${r.files} files, ${formatBytes(r.bytes)} in ${r.durationMs} ms\n`)
      }
      return exitCodes.ok
    } finally {
      view?.stop()
      // after a signal the store may be the thing that hangs: its close gets a short bound, not the full wind-down
      const closing = store?.close?.().catch(() => {})
      if (closing) await (signal.aborted ? Promise.race([closing, new Promise((r) => setTimeout(r, 1000))]) : closing)
    }
  })
}

export function run(argv: string[]): Promise<number> {
  return runPersistCommand('snapshot', argv)
}
