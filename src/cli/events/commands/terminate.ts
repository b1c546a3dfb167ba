/**
 * `scf-graceful events terminate`: one event (ID) or, with `--status RUNNING`, every running event of a function.
 * Graceful first when asked (`--grace`), escalating to force after `--escalate-after`.
 */
import { parseCommandLine } from '../../args.js'
import { formatDuration, parseDuration } from '../duration.js'
import { connect, connectionHelp, connectionOptions, intFlag } from '../context.js'
import { exitCodeFor, exitCodes, UsageError } from '../errors.js'
import { filterHelp, filterOptions, filterParams, listAll, statusesOf } from '../list-query.js'
import { paint, statusColor, table, type Output } from '../output.js'
import { createProgress } from '../progress.js'
import { terminateEvent, terminateMany, type TerminateOutcome, type TerminateReport } from '../terminate.js'


export const usage = `usage: scf-graceful events terminate REQUEST_ID --function NAME [--grace [--escalate-after 30s | --no-escalate]]
       scf-graceful events terminate --function NAME --status RUNNING [filters] [--grace ...] [--concurrency 4] [--dry-run]

  REQUEST_ID             the event; without it, --status RUNNING selects every running event (bulk)
  -f, --function NAME    the function the event belongs to (required)
  -n, --namespace NS     default: default
  --grace                send SIGTERM first (TerminateAsyncEvent GraceShutdown=true), then poll GetAsyncEventStatus
                         with backoff; if the event is still RUNNING when the window closes, terminate it by force
  --escalate-after D     the window (default 30s; 500ms, 2m, ...); implies --grace
  --no-escalate          never force: wait the window, then report (exit 1 if still RUNNING)
  without --grace        terminate by force at once (GraceShutdown=false: the instance is killed, /tmp lost)
  --concurrency N        bulk: events handled at once (default 4); API calls stay under --rate
  --dry-run              bulk: list the events that would be terminated, do nothing

${filterHelp.replace('filters (ListAsyncEvents):', 'bulk filters (ListAsyncEvents; --status must be RUNNING):')}

${connectionHelp}

Exit: 0 every event ended (gracefully, or forced after the window); 1 an event was not RUNNING or is still RUNNING;
3 unknown event or function. --json prints the report: {"requestId", "outcome": "graceful"|"escalated"|"forced"|
"still-running"|"not-running", "status", "statusCode", "graceSent", "forceSent", "elapsedMs", "graceMs", "polls"}
(bulk: {"events": [...reports], "errors": [...], "summary": {...}}).`

const options = {
  ...connectionOptions,
  ...filterOptions,
  grace: { type: 'boolean', short: 'g' },
  'escalate-after': { type: 'string' },
  'no-escalate': { type: 'boolean' },
  concurrency: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const

const FILTER_FLAGS = ['qualifier', 'invoke-type', 'started-from', 'started-before', 'ended-from', 'ended-before', 'request-id'] as const

export async function run(argv: string[], out: Output): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, options, 1)
  const id = positionals[0]
  if (!values.function) throw new UsageError('--function is required (TerminateAsyncEvent needs the function the event belongs to)')
  let windowMs = 30_000
  if (values['escalate-after'] !== undefined) {
    const ms = parseDuration(values['escalate-after'])
    if (ms === undefined) throw new UsageError(`--escalate-after must be a duration like 30s, 2m or 500ms, got "${values['escalate-after']}"`)
    windowMs = ms
  }
  if (values['no-escalate'] && values['escalate-after'] !== undefined && windowMs === 0) throw new UsageError('--no-escalate with --escalate-after 0 would not wait at all')
  const grace = Boolean(values.grace || values['escalate-after'] !== undefined || values['no-escalate'])
  const common = {
    functionName: values.function,
    namespace: values.namespace,
    grace,
    escalateAfterMs: windowMs,
    escalate: !values['no-escalate'],
  }
  const statuses = statusesOf(values.status)

  if (id !== undefined) {
    if (statuses.length) throw new UsageError('give an event id or --status RUNNING (bulk), not both')
    for (const flag of [...FILTER_FLAGS, 'concurrency', 'dry-run'] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} is for bulk terminate (without an event id)`)
    const api = await connect(values, out)
    if (!out.json) out.err(grace ? `sending SIGTERM to ${id}; ${common.escalate ? `force after ${formatDuration(windowMs)} if it is still RUNNING` : `waiting up to ${formatDuration(windowMs)}`}…` : `terminating ${id} by force…`)
    const report = await terminateEvent(api, {
      ...common,
      requestId: id,
      onEscalate: ({ afterMs }) => {
        if (!out.json) out.err(`still RUNNING ${formatDuration(afterMs)} after SIGTERM: terminating by force…`)
      },
    })
    if (out.json) out.out(JSON.stringify(report, null, 2))
    else {
      if (report.outcome === 'not-running' && report.error) out.err(apiErrorText(report.error))
      out.out(describe(report, out.color))
    }
    return exitFor(report.outcome)
  }

  if (!statuses.length) throw new UsageError('give the event id to terminate, or --status RUNNING to terminate every running event of the function')
  if (statuses.some((s) => s !== 'RUNNING')) throw new UsageError(`only RUNNING events can be terminated; --status must be RUNNING, got ${statuses.join(',')}`)
  const concurrency = intFlag('concurrency', values.concurrency, 4, 1, 50)
  const api = await connect(values, out)
  const listed = await listAll(api, filterParams(values))
  const ids = listed.EventList.filter((e) => e.Status === 'RUNNING').map((e) => e.InvokeRequestId)
  if (values['dry-run']) {
    if (out.json) out.out(JSON.stringify({ dryRun: true, events: ids }, null, 2))
    else out.out(ids.length ? `would terminate ${ids.length} RUNNING event(s) of ${values.function}${grace ? ' (graceful first)' : ' (by force)'}:\n${ids.join('\n')}` : `no RUNNING events of ${values.function}`)
    return exitCodes.ok
  }
  if (!ids.length) {
    if (out.json) out.out(JSON.stringify({ events: [], errors: [], summary: summarize([], [], 0) }, null, 2))
    else out.out(`no RUNNING events of ${values.function}: nothing to terminate`)
    return exitCodes.ok
  }
  if (!out.json) out.err(`terminating ${ids.length} RUNNING event(s) of ${values.function}${grace ? `, graceful first (force after ${formatDuration(windowMs)})` : ' by force'}…`)
  const progress = createProgress(out, 'terminating')
  const counts: Partial<Record<TerminateOutcome | 'error', number>> = {}
  progress.update(0, ids.length, '')
  const result = await terminateMany(api, {
    ...common,
    requestIds: ids,
    concurrency,
    onSettled: (done, total, report, error) => {
      const key = error ? 'error' : (report as TerminateReport).outcome
      counts[key] = (counts[key] ?? 0) + 1
      progress.update(done, total, Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(' · '))
    },
  })
  progress.end()
  const summary = summarize(result.reports, result.errors, result.elapsedMs)
  if (out.json) {
    out.out(
      JSON.stringify(
        { events: result.reports, errors: result.errors.map((e) => ({ requestId: e.requestId, code: e.error.apiCode, message: e.error.message, apiRequestId: e.error.requestId })), summary },
        null,
        2,
      ),
    )
  } else {
    const rows = result.reports.map((r) => [r.requestId, r.outcome, r.status ? paint(out.color, statusColor(r.status), r.status) : '-', String(r.statusCode ?? '-'), formatDuration(r.elapsedMs)])
    for (const e of result.errors) rows.push([e.requestId, 'error', '-', '-', `${e.error.apiCode}: ${e.error.message}`])
    out.out(table(['REQUEST ID', 'OUTCOME', 'STATUS', 'CODE', 'TIME'], rows, out.color))
    out.out(
      `\n${summary.total} event(s) in ${formatDuration(result.elapsedMs)}: ${Object.entries(summary.outcomes)
        .filter(([, n]) => n)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ') || 'none'}${summary.errors ? `, ${summary.errors} error(s)` : ''}`,
    )
  }
  // the first API error decides (an auth or rate-limit failure usually hits every event alike)
  const firstError = result.errors[0]
  if (firstError) return exitCodeFor(firstError.error)
  // an event that ended on its own before we got to it is not a failure of a bulk terminate
  return result.reports.some((r) => r.outcome === 'still-running') ? exitCodes.failed : exitCodes.ok
}

function summarize(reports: TerminateReport[], errors: unknown[], elapsedMs: number) {
  const outcomes: Record<TerminateOutcome, number> = { graceful: 0, escalated: 0, forced: 0, 'still-running': 0, 'not-running': 0 }
  for (const r of reports) outcomes[r.outcome]++
  return { total: reports.length + errors.length, outcomes, errors: errors.length, elapsedMs }
}

function exitFor(outcome: TerminateOutcome): number {
  return outcome === 'graceful' || outcome === 'escalated' || outcome === 'forced' ? exitCodes.ok : exitCodes.failed
}

/** One line on what happened to one event, and how long it took. */
export function describe(r: TerminateReport, color: boolean): string {
  const status = r.status ? `${paint(color, statusColor(r.status), r.status)} (StatusCode ${r.statusCode})` : 'status unknown'
  const total = formatDuration(r.elapsedMs)
  switch (r.outcome) {
    case 'graceful':
      return `${r.requestId}: ended after SIGTERM: ${status}, ${formatDuration(r.graceMs ?? r.elapsedMs)} after the signal (total ${total}, ${r.polls} status poll${r.polls === 1 ? '' : 's'})`
    case 'escalated':
      return `${r.requestId}: still RUNNING ${formatDuration(r.graceMs ?? 0)} after SIGTERM, terminated by force: ${status} (total ${total})`
    case 'forced':
      return `${r.requestId}: terminated by force: ${status} (total ${total})`
    case 'still-running':
      return `${r.requestId}: still RUNNING after ${total}${r.forceSent ? ' even after a force terminate' : r.graceSent ? ' (SIGTERM sent, not forced: --no-escalate)' : ''}`
    case 'not-running':
      return `${r.requestId}: not terminated: it was already ${status}`
  }
}

function apiErrorText(e: { code: string; message: string; requestId: string | undefined }): string {
  return `API error ${e.code}: ${e.message}${e.requestId ? ` (RequestId ${e.requestId})` : ''}`
}
