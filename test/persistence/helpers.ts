import { createHash } from 'node:crypto'
import { lstat, mkdir, mkdtemp, opendir, readFile, readlink, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import type { Logger } from '../../src/log.js'

export async function scratch(prefix = 'scfg-persist-'): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

export interface TreeEntry { type: 'dir' | 'file' | 'link'; mode?: number; mtime?: number; sha?: string; size?: number; target?: string }

/** Everything that must survive a round trip: type, mode, mtime (ms), content hash, link target. */
export async function describeTree(root: string, options: { mtimes?: boolean; skip?: (rel: string) => boolean } = {}): Promise<Record<string, TreeEntry>> {
  const out: Record<string, TreeEntry> = {}
  const walk = async (abs: string, rel: string) => {
    const dir = await opendir(abs)
    const names: string[] = []
    for await (const d of dir) names.push(d.name)
    for (const name of names.sort()) {
      const r = rel ? `${rel}/${name}` : name
      if (options.skip?.(r) ?? name === '.scf-graceful') continue
      const a = join(abs, name)
      const st = await lstat(a)
      const mtime = options.mtimes === false ? undefined : Math.round(st.mtimeMs)
      if (st.isDirectory()) {
        out[r] = { type: 'dir', mode: st.mode & 0o7777, mtime }
        await walk(a, r)
      } else if (st.isSymbolicLink()) out[r] = { type: 'link', target: await readlink(a) }
      else out[r] = { type: 'file', mode: st.mode & 0o7777, mtime, size: st.size, sha: createHash('sha256').update(await readFile(a)).digest('hex') }
    }
  }
  await walk(root, '')
  return out
}

export function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = []
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) }
}

/**
 * One scratch folder per test file (made before, removed after) and a fresh case folder per call:
 * `{ dir, root (created), restored, storeDir }`.
 */
export function useCases(prefix?: string): () => Promise<{ dir: string; root: string; restored: string; storeDir: string }> {
  let base: { dir: string; cleanup(): Promise<void> } | undefined
  beforeAll(async () => { base = await scratch(prefix) })
  afterAll(async () => { await base?.cleanup() })
  let n = 0
  return async () => {
    const dir = join(base!.dir, `case-${++n}`)
    await mkdir(join(dir, 'root'), { recursive: true })
    return { dir, root: join(dir, 'root'), restored: join(dir, 'restored'), storeDir: join(dir, 'store') }
  }
}
