// Garbage collection that never deletes a chunk a concurrent writer is about to reference.
//
// The rule: every snapshot writes a lease (gc/leases/<id>) before it looks at which chunks exist and deletes it
// after its ref is written (a lease older than LEASE_STALE_MS without refresh is a crashed writer and ignored).
// prune writes a lock (gc/locks/<id>) and only then lists leases: with any live lease it deletes nothing (a writer may
// still commit a manifest older than the head, so manifests are as much at risk as chunks).
// A writer, after writing its lease, lists locks and waits while a live prune lock exists. Because each side
// writes first and reads second, at least one of them sees the other: chunks are never swept under a writer.
import { hostname } from 'node:os'
import type { SnapshotStore } from './store.js'
import { CHUNKS_PREFIX, LEASES_PREFIX, LOCKS_PREFIX, manifestIdOf, manifestKey, manifestsPrefix, newSnapshotId, refKey, SNAPSHOTS_PREFIX } from './layout.js'
import { manifestChunks, parseManifest } from './manifest.js'
import { collectBytes, delay, throwIfAborted } from './util.js'
import { readRef } from './refs.js'

export const LEASE_STALE_MS = 15 * 60_000
export const LEASE_REFRESH_MS = 60_000
export const LOCK_STALE_MS = 10 * 60_000
const LOCK_POLL_MS = 200

interface Marker { createdAt: number; refreshedAt: number; host: string; pid: number }

function marker(createdAt = Date.now()): Uint8Array {
  return Buffer.from(JSON.stringify({ createdAt, refreshedAt: Date.now(), host: hostname(), pid: process.pid } satisfies Marker))
}

async function liveMarkers(store: SnapshotStore, prefix: string, staleMs: number, signal?: AbortSignal, except?: string): Promise<string[]> {
  const live: string[] = []
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
  }
  return live
}

export interface Lease { release(): Promise<void> }

/** Takes a writer lease and waits (bounded by the signal) while a live prune lock exists. */
export async function takeLease(store: SnapshotStore, signal?: AbortSignal): Promise<Lease> {
  const key = `${LEASES_PREFIX}${newSnapshotId()}`
  const createdAt = Date.now()
  await store.put(key, marker(createdAt), { signal })
  const refresh = setInterval(() => {
    store.put(key, marker(createdAt)).catch(() => {})
  }, LEASE_REFRESH_MS)
  refresh.unref()
  const release = async () => {
    clearInterval(refresh)
    await store.delete(key)
  }
  try {
    while ((await liveMarkers(store, LOCKS_PREFIX, LOCK_STALE_MS, signal)).length > 0) {
      throwIfAborted(signal, 'snapshot')
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
  /** false when a live writer lease kept the chunk sweep from running (it runs on a later prune). */
  swept: boolean
}

/**
 * Keeps the newest `keepLast` manifests of `key` (always the one the ref points at, and any newer one a writer
 * may be about to commit), deletes the others, then sweeps chunks no manifest of any key references.
 */
export async function prune(store: SnapshotStore, key: string, keepLast: number, signal?: AbortSignal): Promise<PruneResult> {
  const lockKey = `${LOCKS_PREFIX}${newSnapshotId()}`
  await store.put(lockKey, marker(), { signal })
  try {
    // a live writer may commit a manifest older than the head (writers can finish out of id order), so with any
    // live lease nothing is deleted at all: neither manifests nor chunks. A later prune does the work.
    if ((await liveMarkers(store, LEASES_PREFIX, LEASE_STALE_MS, signal)).length > 0) return { deletedManifests: 0, deletedChunks: 0, swept: false }
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
      if (!bytes) return { deletedManifests: doomed.length, deletedChunks: 0, swept: false }
      manifestChunks(parseManifest(bytes), referenced)
    }
    const unreferenced: string[] = []
    for await (const k of store.list(CHUNKS_PREFIX, { signal })) {
      const hash = k.slice(k.lastIndexOf('/') + 1)
      if (!referenced.has(hash)) unreferenced.push(k)
    }
    for (let i = 0; i < unreferenced.length; i += 500) await store.delete(unreferenced.slice(i, i + 500), { signal })
    return { deletedManifests: doomed.length, deletedChunks: unreferenced.length, swept: true }
  } finally {
    await store.delete(lockKey).catch(() => {})
  }
}

