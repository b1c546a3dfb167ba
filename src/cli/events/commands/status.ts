/** `scf-graceful events status ID`: GetAsyncEventStatus; `--wait` polls (with backoff) until the event ends. */
import { parseCommandLine } from '../../args.js'
import { sleep } from '../api-client.js'
import { formatDuration, parseDuration } from '../duration.js'
import { connect, connectionHelp, connectionOptions } from '../context.js'
import { exitCodes, UsageError } from '../errors.js'
import { paint, statusColor, type Output } from '../output.js'


export const usage = `usage: scf-graceful events status REQUEST_ID [--wait [--timeout 10m]] [--json]

  --wait            poll GetAsyncEventStatus (backoff 0.5s -> 5s) until the event is no longer RUNNING;
                    exit 0 if it FINISHED, 1 if it FAILED or was ABORTED, 1 if still RUNNING at --timeout
  --timeout D       bound of --wait (default 10m; 30s, 2m, 1h, ...)

${connectionHelp}

--json prints {"Result": {"Status", "StatusCode", "InvokeRequestId"}, "RequestId"} (with --wait: the last answer,
plus "WaitedMs").`

const options = { ...connectionOptions, wait: { type: 'boolean', short: 'w' }, timeout: { type: 'string' } } as const

interface StatusResult {
  Status: string
  StatusCode: number
  InvokeRequestId: string
}

export async function run(argv: string[], out: Output): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, options, 1)
  const id = positionals[0]
  if (!id) throw new UsageError('give the event id: scf-graceful events status REQUEST_ID')
  if (values.timeout !== undefined && !values.wait) throw new UsageError('--timeout only goes with --wait')
  const timeoutMs = values.timeout === undefined ? 600_000 : parseDuration(values.timeout)
  if (timeoutMs === undefined || timeoutMs <= 0) throw new UsageError(`--timeout must be a duration like 30s, 2m or 1h, got "${values.timeout}"`)
  const api = await connect(values, out)
  const t0 = performance.now()
  let res = await api.call('GetAsyncEventStatus', { InvokeRequestId: id })
  if (values.wait) {
    let delay = 500
    let announced = false
    while ((res.Result as StatusResult).Status === 'RUNNING' && performance.now() - t0 < timeoutMs) {
      if (!announced && !out.json) {
        out.err(`waiting for ${id} to end (up to ${formatDuration(timeoutMs)})…`)
        announced = true
      }
      await sleep(Math.min(delay, Math.max(0, timeoutMs - (performance.now() - t0))))
      res = await api.call('GetAsyncEventStatus', { InvokeRequestId: id })
      delay = Math.min(5000, delay * 1.5)
    }
  }
  const result = res.Result as StatusResult
  const waited = Math.round(performance.now() - t0)
  if (out.json) {
    out.out(JSON.stringify({ Result: result, ...(res.RequestId ? { RequestId: res.RequestId } : {}), ...(values.wait ? { WaitedMs: waited } : {}) }, null, 2))
  } else {
    out.out(`${result.InvokeRequestId}  ${paint(out.color, statusColor(result.Status), result.Status)}  StatusCode ${result.StatusCode}${values.wait ? `  (waited ${formatDuration(waited)})` : ''}`)
  }
  if (!values.wait) return exitCodes.ok
  if (result.Status === 'RUNNING') {
    if (!out.json) out.err(`still RUNNING after ${formatDuration(waited)}`)
    return exitCodes.failed
  }
  return result.Status === 'FINISHED' ? exitCodes.ok : exitCodes.failed
}
