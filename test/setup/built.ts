// Tests whose subject runs from dist/ (a child process, a packed copy, the built entries): without a build they are
// a loud skip locally and a failure under CI=true.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const dist = fileURLToPath(new URL('../../dist/', import.meta.url))

/**
 * True when every one of `files` (paths under dist/) exists. Otherwise names the first missing one: throws under
 * CI=true, warns `SKIPPED <suite>: ...` locally, and returns false (for `describe.skipIf(!built)`).
 */
export function distBuilt(suite: string, ...files: string[]): boolean {
  const missing = files.find((file) => !existsSync(join(dist, file)))
  if (missing === undefined) return true
  const message = `${suite}: dist/${missing} is missing; run \`npm run build\` first`
  if (process.env.CI === 'true') throw new Error(message)
  console.warn(`SKIPPED ${message}`)
  return false
}
