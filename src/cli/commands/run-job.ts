/**
 * `scf-graceful run-job ENTRY[:EXPORT] [--event JSON]`: runs a Job image function's handler once, the way the
 * container's CMD would: event from SCF_CUSTOM_CONTAINER_EVENT, exit code = outcome (see jobExitCodes).
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { jobExitCodes, runJob } from '../../job.js'
import { parseCommandLine } from '../args.js'
import { exitCodes, UsageError } from '../exit-codes.js'

const USAGE = `usage: scf-graceful run-job ENTRY[:EXPORT] [--event JSON]

Runs the handler EXPORT (default main_handler, else the default export) of the module ENTRY once, as an SCF
Job image function: the event comes from SCF_CUSTOM_CONTAINER_EVENT (or --event), the context from the
SCF_* / TENCENTCLOUD_* environment. As a container command, start node itself (npm and npx do not
forward SIGTERM): CMD ["node", "node_modules/scf-graceful/dist/cli.js", "run-job", "job.mjs"]

Ctrl-C and SIGTERM reach the handler through its signal (runJob), as in the container.

exit codes (the job's, jobExitCodes): ${Object.entries(jobExitCodes).map(([k, v]) => `${v} ${k}`).join(', ')}, 2 usage or
handler not found; loading ENTRY failed: 1`

/** Splits ENTRY[:EXPORT]; the export must look like an identifier, so `C:\\job.mjs` stays a path. */
export function parseTarget(target: string): { entry: string; exportName: string | undefined } {
  const m = /^(.+):([A-Za-z_$][\w$]*)$/.exec(target)
  return m ? { entry: m[1] as string, exportName: m[2] } : { entry: target, exportName: undefined }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { event: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, 1)
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return exitCodes.ok
  }
  const target = positionals[0]
  const event = values.event
  if (!target) throw new UsageError('ENTRY is missing')
  const { entry, exportName } = parseTarget(target)
  let mod: Record<string, unknown>
  try {
    mod = (await import(pathToFileURL(resolve(entry)).href)) as Record<string, unknown>
  } catch (err) {
    process.stderr.write(`error: loading ${entry} failed: ${(err as Error)?.stack ?? String(err)} (SCFG_ERR_INSTANCE_START)\n`)
    return exitCodes.failed
  }
  const name = exportName ?? 'main_handler'
  const fromDefault = (mod.default as Record<string, unknown> | undefined)?.[name]
  const handler = mod[name] ?? fromDefault ?? (exportName === undefined && typeof mod.default === 'function' ? mod.default : undefined)
  if (typeof handler !== 'function') {
    process.stderr.write(`error: ${entry} does not export a function "${name}" (SCFG_ERR_HANDLER_NOT_FOUND)\n`)
    return exitCodes.usage
  }
  const env = event === undefined ? process.env : { ...process.env, SCF_CUSTOM_CONTAINER_EVENT: event }
  // runJob exits the process itself: a handle the job left open must not keep the container alive
  return runJob(handler as Parameters<typeof runJob>[0], { env })
}
