import type { Logger } from '../log.js'
import type { PathPredicate } from './filter.js'
import type { ManifestEntry } from './manifest.js'
import type { SnapshotStore } from './store.js'

/** Options resolved once by createSnapshotter and handed to each operation. */
export interface SnapshotContext {
  store: SnapshotStore
  root: string
  key: string
  include: PathPredicate | undefined
  exclude: PathPredicate | undefined
  concurrency: number
  logger: Logger
}

export interface Progress {
  phase: 'snapshot' | 'restore'
  files: number
  totalFiles: number
  bytes: number
  totalBytes: number
}

export interface OperationOptions {
  /** Aborts cleanly: the operation rejects with SCFG_ERR_SNAPSHOT_ABORTED and the previous snapshot stays intact. */
  signal?: AbortSignal
  /** Called as files and bytes are processed (the CLI draws its progress bar from it). */
  onProgress?: (progress: Progress) => void
  /**
   * @internal Restore only: called with the manifest's entries once it is loaded, before a byte is written. The
   * persistence runtime keeps them so that starting over (`persist.onRestoreError: 'start-fresh'`) removes exactly
   * what a failed restore may have written.
   */
  onManifest?: (entries: readonly ManifestEntry[]) => void
}
