import { ScfGracefulError } from '../errors.js'
import type { SnapshotStore } from './store.js'
import { manifestKey } from './layout.js'
import { type Manifest, parseManifest } from './manifest.js'
import { collectBytes } from './util.js'

/** Manifests above this are refused before parsing (a hostile store cannot exhaust memory). */
const MAX_MANIFEST_BYTES = 512 * 1024 * 1024

export async function loadManifest(store: SnapshotStore, key: string, id: string, signal?: AbortSignal): Promise<Manifest> {
  const body = await store.get(manifestKey(key, id), { signal })
  if (!body) throw new ScfGracefulError('SCFG_ERR_MANIFEST_INVALID', `invalid manifest: the ref of key "${key}" points at manifest ${id}, which is missing`)
  const bytes = await collectBytes(body, MAX_MANIFEST_BYTES)
  if (!bytes) throw new ScfGracefulError('SCFG_ERR_MANIFEST_INVALID', `invalid manifest: ${id} is larger than ${MAX_MANIFEST_BYTES} bytes`)
  return parseManifest(bytes, { key, id })
}
