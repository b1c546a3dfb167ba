// Garbage collection that never deletes a chunk a concurrent writer or reader still needs.
//
// The rule (restic's shared and exclusive locks): every snapshot and every restore writes a lease (gc/leases/<id>)
// before it reads the ref, and deletes it when it ends: a snapshot after its ref is written, a restore after its last
// chunk is read. A lease not refreshed for LEASE_STALE_MS belongs to a crashed process and is ignored.
// prune writes a lock (gc/locks/<id>) and only then lists leases: with any live lease it deletes nothing (a writer may
// still commit a manifest older than the head, a reader is still reading a manifest prune would drop, so manifests are
// as much at risk as chunks). A snapshot or restore, after writing its lease, lists locks and waits while a live prune
// lock exists. Because each side writes first and reads second, at least one of them sees the other: nothing is
// swept under a running snapshot or restore.
import { hostname } from 'node:os'
import type { SnapshotStore } from './store.js'
import { CHUNKS_PREFIX, LEASES_PREFIX, LOCKS_PREFIX, manifestIdOf, manifestKey, manifestsPrefix, newSnapshotId, SNAPSHOTS_PREFIX } from './layout.js'
import { manifestChunks, parseManifest } from './manifest.js'
import { collectBytes, delay, throwIfAborted } from './util.js'
import { readRef } from './refs.js'

export const LEASE_STALE_MS = 15 * 60_000
export const LEASE_REFRESH_MS = 60_000
export const LOCK_STALE_MS = 10 * 60_000
const LOCK_POLL_MS = 200

/** What holds a lease or lock; written into the marker so an operator reading the store can tell. */
export type LeaseHolder = 'snapshot' | 'restore' | 'prune'

interface Marker { op: LeaseHolder; createdAt: number; refreshedAt: number; host: string; pid: number }

function marker(op: LeaseHolder, createdAt = Date.now()): Uint8Array {
  return Buffer.from(JSON.stringify({ op, createdAt, refreshedAt: Date.now(), host: hostname(), pid: process.pid } satisfies Marker))
}

/** The markers under `prefix` refreshed within `staleMs` (live) and the others (left by a crashed process). */
async function readMarkers(store: SnapshotStore, prefix: string, staleMs: number, signal?: AbortSignal, except?: string): Promise<{ live: string[]; stale: string[] }> {
  const live: string[] = []
  const stale: string[] = []
  for await (const key of store.list(prefix, { signal })) {
    if (key === except) continue
    const body = await store.get(key, { signal })
    if (!body) continue
    const bytes = await collectBytes(body, 4096)
    let refreshedAt = 0
    try {
      refreshedAt = Number((JSON.parse(String(bytes)) as Marker).refreshedAt) || 0
    } catch {
      // unreadable marker: treat as live until it is stale by its... nothing to go by; be safe
      refreshedAt = Date.now()
    }
    if (Date.now() - refreshedAt < staleMs) live.push(key)
    else stale.push(key)
  }
  return { live, stale }
}

export interface Lease { release(): Promise<void> }

/**
 * Takes a lease for a snapshot (a writer) or a restore (a reader) and waits (bounded by the signal) while a live prune
 * lock exists. Until it is released, prune deletes nothing.
 */
export async function takeLease(store: SnapshotStore, op: 'snapshot' | 'restore', signal?: AbortSignal): Promise<Lease> {
  const key = `${LEASES_PREFIX}${newSnapshotId()}`
  const createdAt = Date.now()
  await store.put(key, marker(op, createdAt), { signal })
  // the timer only refreshes; the operation holding the lease keeps the process alive by itself
  const refresh = setInterval(() => {
    store.put(key, marker(op, createdAt)).catch(() => {})
  }, LEASE_REFRESH_MS)
  refresh.unref()
  const release = async () => {
    clearInterval(refresh)
    await store.delete(key)
  }
  try {
    while ((await readMarkers(store, LOCKS_PREFIX, LOCK_STALE_MS, signal)).live.length > 0) {
      throwIfAborted(signal, op)
      await delay(LOCK_POLL_MS, signal)
    }
  } catch (err) {
    await release().catch(() => {})
    throw err
  }
  return { release }
}

export interface PruneResult {
  deletedManifests: number
  deletedChunks: number
  /**
   * Leftovers of crashed processes removed: the store's stale temp objects (see SnapshotStore.sweepTemp) and stale
   * leases and locks.
   */
  deletedTemp: number
  /** false when a live lease (a running snapshot or restore) kept the sweep from running (it runs on a later prune). */
  swept: boolean
}

/**
 * A store's temp object younger than this may belong to a put still running and is never swept (kopia's safety
 * margin). An hour is far beyond any one put, and the Redis store's temp keys expire on their own by then.
 */
export const TEMP_STALE_MS = 60 * 60_000

export interface PruneOptions {
  key: string
  keepLast: number
  signal?: AbortSignal
  /** Temp objects older than this are swept. @default TEMP_STALE_MS */
  tempStaleMs?: number
}

/**
 * Keeps the newest `keepLast` manifests of `key` (always the one the ref points at, and any newer one a writer
 * may be about to commit), deletes the others, sweeps chunks no manifest of any key references, then leftovers of
 * crashed processes (stale temp objects, leases and locks).
 */
export async function prune(store: SnapshotStore, options: PruneOptions): Promise<PruneResult> {
  const { key, keepLast, signal, tempStaleMs = TEMP_STALE_MS } = options
  const lockKey = `${LOCKS_PREFIX}${newSnapshotId()}`
  await store.put(lockKey, marker('prune'), { signal })
  try {
    // a live writer may commit a manifest older than the head (writers can finish out of id order), a live reader
    // may still be reading a manifest older than keepLast allows, so with any live lease nothing is deleted at all:
    // neither manifests nor chunks. A later prune does the work.
    const leases = await readMarkers(store, LEASES_PREFIX, LEASE_STALE_MS, signal)
    if (leases.live.length > 0) return { deletedManifests: 0, deletedChunks: 0, deletedTemp: 0, swept: false }
    const ids: string[] = []
    for await (const k of store.list(manifestsPrefix(key), { signal })) {
      const id = manifestIdOf(k)
      if (id) ids.push(id)
    }
    ids.sort().reverse()
    const head = await readRef(store, key, signal)
    const keep = new Set(ids.slice(0, keepLast))
    if (head) {
      keep.add(head)
      for (const id of ids) if (id > head) keep.add(id)
    }
    const doomed = ids.filter((id) => !keep.has(id))
    if (doomed.length) await store.delete(doomed.map((id) => manifestKey(key, id)), { signal })

    const referenced = new Set<string>()
    for await (const k of store.list(SNAPSHOTS_PREFIX, { signal })) {
      if (!manifestIdOf(k)) continue
      const body = await store.get(k, { signal })
      if (!body) continue
      const bytes = await collectBytes(body, 1024 * 1024 * 1024)
      // an unreadable manifest might reference anything: keep every chunk rather than guess
      if (!bytes) return { deletedManifests: doomed.length, deletedChunks: 0, deletedTemp: 0, swept: false }
      manifestChunks(parseManifest(bytes), referenced)
    }
    const unreferenced: string[] = []
    for await (const k of store.list(CHUNKS_PREFIX, { signal })) {
      const hash = k.slice(k.lastIndexOf('/') + 1)
      if (!referenced.has(hash)) unreferenced.push(k)
    }
    for (let i = 0; i < unreferenced.length; i += 500) await store.delete(unreferenced.slice(i, i + 500), { signal })

    // leftovers of crashed processes: only what is older than any live operation could be
    const locks = await readMarkers(store, LOCKS_PREFIX, LOCK_STALE_MS, signal, lockKey)
    const staleMarkers = [...leases.stale, ...locks.stale]
    if (staleMarkers.length) await store.delete(staleMarkers, { signal })
    const sweptTemp = (await store.sweepTemp?.(tempStaleMs, { signal })) ?? 0
    return { deletedManifests: doomed.length, deletedChunks: unreferenced.length, deletedTemp: staleMarkers.length + sweptTemp, swept: true }
  } finally {
    await store.delete(lockKey).catch(() => {})
  }
}

