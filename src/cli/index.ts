#!/usr/bin/env node
/**
 * `scf-graceful` command. Each command lives in its own module, loaded only when used, and exports
 * `run(argv: string[]): Promise<number>` (the exit code).
 */
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
  ].join('\n')
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`)
    return name ? 0 : 2
  }
  if (name === '--version' || name === '-v') {
    const { createRequire } = await import('node:module')
    process.stdout.write(`${(createRequire(import.meta.url)('../package.json') as { version: string }).version}\n`)
    return 0
  }
  const command = commands[name]
  if (!command) {
    process.stderr.write(`error: unknown command "${name}" (SCFG_ERR_CLI_USAGE)\n\n${usage()}\n`)
    return 2
  }
  return (await command.load()).run(rest)
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    const e = err as { message?: string; code?: string }
    process.stderr.write(`error: ${e?.message ?? String(err)}${e?.code ? ` (${e.code})` : ''}\n`)
    process.exitCode = 1
  },
)
