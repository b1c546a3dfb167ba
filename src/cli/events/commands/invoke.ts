/** `scf-graceful events invoke`: Invoke, async (Event) by default; `--sync` waits for the result. */
import { parseCommandLine } from '../../args.js'
import { readFile } from 'node:fs/promises'
import { connect, connectionHelp, connectionOptions } from '../context.js'
import { exitCodes, UsageError } from '../errors.js'
import type { Output } from '../output.js'


export const usage = `usage: scf-graceful events invoke --function NAME [--payload JSON | --payload-file FILE]
                                 [--namespace NS] [--qualifier Q] [--sync [--log]] [--json]

  -f, --function NAME     the function (required)
  -n, --namespace NS      default: default
  --qualifier Q           version or alias (default: $LATEST)
  -p, --payload JSON      the event, a JSON value (default {}); async events are limited to 128 KB
  --payload-file FILE     read the event from a file ("-" = stdin)
  --sync                  InvocationType RequestResponse: wait for the result (default: Event, async)
  --log                   with --sync: print the last 4 KB of the function's log (LogType Tail) on stderr

${connectionHelp}

Output: async: the event's request id on stdout (ID=$(scf-graceful events invoke ...) works);
sync: the function's result (RetMsg) on stdout; a failed invocation prints its error on stderr and exits 1.
--json prints the API's answer: {"Result": {"FunctionRequestId", "RetMsg", "ErrMsg", "Log", "Duration", ...}, "RequestId"}.`

const options = {
  ...connectionOptions,
  function: { type: 'string', short: 'f' },
  namespace: { type: 'string', short: 'n' },
  qualifier: { type: 'string' },
  payload: { type: 'string', short: 'p' },
  'payload-file': { type: 'string' },
  sync: { type: 'boolean' },
  log: { type: 'boolean' },
} as const

interface InvokeResult {
  FunctionRequestId: string
  RetMsg: string
  ErrMsg: string
  Log: string
  Duration: number
  InvokeResult: number
}

export async function run(argv: string[], out: Output): Promise<number> {
  const { values } = parseCommandLine(argv, options, 0)
  if (!values.function) throw new UsageError('--function is required')
  if (values.payload !== undefined && values['payload-file'] !== undefined) throw new UsageError('give --payload or --payload-file, not both')
  if (values.log && !values.sync) throw new UsageError('--log goes with --sync (an async event has no result to wait for; see scf-graceful events logs)')
  let raw = values.payload ?? '{}'
  if (values['payload-file'] !== undefined) {
    const file = values['payload-file']
    try {
      raw = file === '-' ? await readStdin() : await readFile(file, 'utf8')
    } catch (err) {
      throw new UsageError(`--payload-file ${file}: ${(err as Error).message}`)
    }
  }
  try {
    JSON.parse(raw)
  } catch (err) {
    throw new UsageError(`the payload is not valid JSON: ${(err as Error).message}`)
  }
  const api = await connect(values, out)
  const res = await api.call('Invoke', {
    FunctionName: values.function,
    InvocationType: values.sync ? 'RequestResponse' : 'Event',
    ClientContext: raw,
    ...(values.namespace ? { Namespace: values.namespace } : {}),
    ...(values.qualifier ? { Qualifier: values.qualifier } : {}),
    ...(values.log ? { LogType: 'Tail' } : {}),
  })
  const result = res.Result as InvokeResult
  const failed = values.sync && (result.InvokeResult !== 0 || Boolean(result.ErrMsg))
  if (out.json) {
    out.out(JSON.stringify(res, null, 2))
    return failed ? exitCodes.failed : exitCodes.ok
  }
  if (!values.sync) {
    out.out(result.FunctionRequestId)
    out.err(`async event started; follow it with: scf-graceful events status ${result.FunctionRequestId} --wait`)
    return exitCodes.ok
  }
  if (values.log && result.Log) out.err(result.Log.replace(/\n$/, ''))
  if (failed) {
    out.err(`invocation ${result.FunctionRequestId} failed (InvokeResult ${result.InvokeResult}): ${result.ErrMsg}`)
    return exitCodes.failed
  }
  out.out(result.RetMsg)
  return exitCodes.ok
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
