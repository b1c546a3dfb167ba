#!/usr/bin/env node
/**
 * `scf-graceful` command. Each command lives in its own module, loaded only when used, and exports
 * `run(argv: string[]): Promise<number>` (the exit code, from the one table in ./exit-codes.ts). Arguments are
 * parsed by ./args.ts, Ctrl-C and SIGTERM go through the shutdown core (./interrupt.ts).
 */
import { closest } from './args.js'
import { exitCodeForError, exitCodes, exitCodesHelp } from './exit-codes.js'
import { exitAfterOutput } from '../shutdown/exit.js'

const commands: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  local: { summary: 'run the local SCF async-execution emulator (Tencent Cloud API + console)', load: () => import('./commands/local.js') },
  events: { summary: 'invoke | list | status | terminate | logs: async events, in the cloud or on the emulator', load: () => import('./commands/events.js') },
  snapshot: { summary: 'snapshot a directory into a store', load: () => import('./commands/snapshot.js') },
  restore: { summary: 'restore a directory from a store', load: () => import('./commands/restore.js') },
  'run-job': { summary: 'run a Job image function: ENTRY[:EXPORT], event from SCF_CUSTOM_CONTAINER_EVENT', load: () => import('./commands/run-job.js') },
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length))
  return [
    'usage: scf-graceful <command> [options]',
    '',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    "run 'scf-graceful <command> --help' for a command's options",
    exitCodesHelp,
  ].join('\n')
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    ;(name ? process.stdout : process.stderr).write(`${usage()}\n`)
    return name ? exitCodes.ok : exitCodes.usage
  }
  if (name === '--version' || name === '-v') {
    const { createRequire } = await import('node:module')
    process.stdout.write(`${(createRequire(import.meta.url)('../package.json') as { version: string }).version}\n`)
    return exitCodes.ok
  }
  const command = commands[name]
  if (!command) {
    const guess = closest(name, Object.keys(commands))
    process.stderr.write(`error: unknown command "${name}"${guess ? `; did you mean ${guess}?` : ''} (SCFG_ERR_CLI_USAGE)\n\n${usage()}\n`)
    return exitCodes.usage
  }
  try {
    return await command.load().then((c) => c.run(rest))
  } catch (err) {
    const e = err as { message?: string; code?: string }
    const code = exitCodeForError(err)
    process.stderr.write(`error: ${e?.message ?? String(err)}${e?.code ? ` (${e.code})` : ''}\n`)
    if (code === exitCodes.usage) process.stderr.write(`run 'scf-graceful ${name} --help' for the options\n`)
    return code
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // a command stopped by a signal may leave work behind (a request in flight): do not wait for it
    if (code === exitCodes.interrupted || code === exitCodes.terminated) exitAfterOutput(code)
    else process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error)?.message ?? String(err)}\n`)
    process.exitCode = exitCodes.failed
  },
)
