/**
 * `scf-graceful events <invoke|list|status|terminate|logs>`: operate on SCF async events, in Tencent Cloud (the
 * official SDK) or on the local emulator (`--endpoint`). Each subcommand lives in src/cli/events/commands/ and is
 * loaded only when used. Exit codes: the CLI's one table (src/cli/exit-codes.ts); API error codes map onto it in
 * src/cli/events/errors.ts.
 */
import { closest } from '../args.js'
import { ApiCallError, exitCodeFor, exitCodes, UsageError } from '../events/errors.js'
import { createOutput, type Output } from '../events/output.js'
import { exitCodesHelp } from '../exit-codes.js'
import { interruptible } from '../interrupt.js'

interface Subcommand {
  usage: string
  run(argv: string[], out: Output): Promise<number>
}

const subcommands: Record<string, () => Promise<Subcommand>> = {
  invoke: () => import('../events/commands/invoke.js'),
  list: () => import('../events/commands/list.js'),
  status: () => import('../events/commands/status.js'),
  terminate: () => import('../events/commands/terminate.js'),
  logs: () => import('../events/commands/logs.js'),
}

const SUMMARIES: Record<string, string> = {
  invoke: 'invoke a function: an async event (default) or synchronously (--sync)',
  list: 'list async events of a function (ListAsyncEvents), with filters and paging',
  status: 'status of one async event (GetAsyncEventStatus); --wait until it ends',
  terminate: 'terminate an event (or every RUNNING one): graceful first, force after a window',
  logs: "an event's log lines with the [PLATFORM] lines (emulator only); --follow",
}

function usage(): string {
  return [
    'usage: scf-graceful events <command> [options]',
    '',
    ...Object.entries(SUMMARIES).map(([name, s]) => `  ${name.padEnd(10)} ${s}`),
    '',
    'Tencent Cloud by default (--region, TENCENTCLOUD_SECRETID/SECRETKEY); --endpoint http://127.0.0.1:PORT for scf-graceful local.',
    "run 'scf-graceful events <command> --help' for its options",
    '',
    exitCodesHelp,
  ].join('\n')
}

/** Runs `events ...`; resolves with the exit code (never rejects). */
export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    ;(name ? process.stdout : process.stderr).write(`${usage()}\n`)
    return name ? exitCodes.ok : exitCodes.usage
  }
  const load = subcommands[name]
  if (!load) {
    const guess = closest(name, Object.keys(subcommands))
    process.stderr.write(`error: unknown events command "${name}"${guess ? `; did you mean ${guess}?` : ''} (SCFG_ERR_CLI_USAGE)\n\n${usage()}\n`)
    return exitCodes.usage
  }
  const sub = await load()
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${sub.usage}\n`)
    return exitCodes.ok
  }
  const out = createOutput(rest.includes('--json'))
  // API calls leave nothing to clean up: a signal stops the command at once (what was sent stays sent)
  return interruptible(
    `events ${name}`,
    async () => {
      try {
        return await sub.run(rest, out)
      } catch (err) {
        return report(err, out, name)
      }
    },
    { windDownMs: 0 },
  )
}

function report(err: unknown, out: Output, name: string): number {
  const code = exitCodeFor(err)
  if (err instanceof UsageError) {
    out.err(`error: ${err.message} (${err.code})\nrun 'scf-graceful events ${name} --help' for the options`)
    return code
  }
  if (err instanceof ApiCallError) {
    if (out.json) out.out(JSON.stringify({ Error: { Code: err.apiCode, Message: err.message }, RequestId: err.requestId ?? null, ExitCode: code }, null, 2))
    out.err(
      [
        `error: ${err.action} failed`,
        `  Code:      ${err.apiCode}`,
        `  Message:   ${err.message}`,
        ...(err.requestId ? [`  RequestId: ${err.requestId}`] : []),
        ...(hint(err.apiCode) ? [`  ${hint(err.apiCode)}`] : []),
      ].join('\n'),
    )
    return code
  }
  const e = err as { message?: string; code?: string }
  out.err(`error: ${e?.message ?? String(err)}${e?.code ? ` (${e.code})` : ''}`)
  return code
}

function hint(apiCode: string): string | undefined {
  if (apiCode === 'NetworkError') return 'hint: is the endpoint right? (for the emulator: scf-graceful local prints its URL)'
  if (apiCode.startsWith('AuthFailure.SignatureFailure') || apiCode === 'AuthFailure.SecretIdNotFound') return 'hint: check the SecretId/SecretKey (the emulator prints its SecretId at start)'
  if (apiCode === 'AuthFailure.SignatureExpire') return "hint: this machine's clock is off by more than 5 minutes"
  if (apiCode === 'RequestLimitExceeded') return 'hint: lower --rate, or raise --retries'
  return undefined
}
