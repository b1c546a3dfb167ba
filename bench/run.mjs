// Runs every bench/<area>/index.mjs in turn, or only the areas named on the command line:
//   npm run bench            (all)        npm run bench -- core stores
// Each area runs in its own process against the built dist/ (npm run bench builds first).
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const benchDir = dirname(fileURLToPath(import.meta.url))
const available = readdirSync(benchDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && existsSync(join(benchDir, entry.name, 'index.mjs')))
  .map((entry) => entry.name)
  .sort()

const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('-'))
const unknown = requested.filter((name) => !available.includes(name))
if (unknown.length > 0) {
  console.error(`bench: no bench/${unknown.join(', bench/')}/index.mjs (available: ${available.join(', ') || 'none'})`)
  process.exit(2)
}
const areas = requested.length > 0 ? requested : available

const failed = []
for (const area of areas) {
  const started = Date.now()
  console.error(`\nbench: ${area}`)
  const result = spawnSync(process.execPath, [join(benchDir, area, 'index.mjs')], { stdio: 'inherit', env: process.env })
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  if (result.status !== 0) {
    failed.push(area)
    console.error(`bench: ${area} FAILED after ${seconds} s (exit ${result.status ?? result.signal})`)
  } else {
    console.error(`bench: ${area} done in ${seconds} s`)
  }
}
if (failed.length > 0) {
  console.error(`\nbench: ${failed.length} of ${areas.length} failed: ${failed.join(', ')}`)
  process.exit(1)
}
