// Where a snapshot's objects live in a store. Chunks are shared by every key in the store (dedupe across keys);
// a key's manifests and ref live under snapshots/<key>/. User key segments start with a letter or digit, so the
// reserved names below ('_ref', '_manifests') can never collide with a nested key.
import { randomBytes } from 'node:crypto'

export const FORMAT = 'scf-graceful/snapshot@1'
/** Fixed chunk size: big enough that a 512 MiB file is 128 objects, small enough to hold a few in memory. */
export const CHUNK_SIZE = 4 * 1024 * 1024

export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/

export const chunkKey = (hash: string) => `chunks/${hash.slice(0, 2)}/${hash}`
export const CHUNKS_PREFIX = 'chunks/'
export const SNAPSHOTS_PREFIX = 'snapshots/'
export const refKey = (key: string) => `snapshots/${key}/_ref`
export const manifestsPrefix = (key: string) => `snapshots/${key}/_manifests/`
export const manifestKey = (key: string, id: string) => `${manifestsPrefix(key)}${id}.json`
export const LEASES_PREFIX = 'gc/leases/'
export const LOCKS_PREFIX = 'gc/locks/'

/** Sortable by time: 13-digit ms timestamp, then randomness so two writers in one ms differ. */
export function newSnapshotId(now = Date.now()): string {
  return `${String(now).padStart(13, '0')}-${randomBytes(6).toString('hex')}`
}

export const SNAPSHOT_ID_PATTERN = /^\d{13}-[0-9a-f]{12}$/

export function idTime(id: string): Date {
  return new Date(Number(id.slice(0, 13)))
}

/** The manifest id of a manifest key, or undefined when the key is not one. */
export function manifestIdOf(storeKey: string): string | undefined {
  const m = /\/_manifests\/(\d{13}-[0-9a-f]{12})\.json$/.exec(storeKey)
  return m?.[1]
}
