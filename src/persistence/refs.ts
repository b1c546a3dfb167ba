import { ScfGracefulError } from '../errors.js'
import type { SnapshotStore } from './store.js'
import { refKey, SNAPSHOT_ID_PATTERN } from './layout.js'
import { collectBytes } from './util.js'

/** The manifest id the key's ref points at, or undefined when there is no snapshot yet. */
export async function readRef(store: SnapshotStore, key: string, signal?: AbortSignal): Promise<string | undefined> {
  const body = await store.get(refKey(key), { signal })
  if (!body) return undefined
  const bytes = await collectBytes(body, 4096)
  let id: unknown
  try {
    id = bytes && (JSON.parse(String(bytes)) as { manifest?: unknown }).manifest
  } catch {
    id = undefined
  }
  if (typeof id !== 'string' || !SNAPSHOT_ID_PATTERN.test(id)) throw new ScfGracefulError('SCFG_ERR_MANIFEST_INVALID', `invalid manifest: the ref of key "${key}" is malformed`)
  return id
}

export async function writeRef(store: SnapshotStore, key: string, id: string, signal?: AbortSignal): Promise<void> {
  await store.put(refKey(key), Buffer.from(JSON.stringify({ manifest: id })), { signal })
}
