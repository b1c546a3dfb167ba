/** `scf-graceful events list`: ListAsyncEvents with every filter as a flag; `--all` pages through everything. */
import { parseCommandLine } from '../../args.js'
import { formatDuration } from '../duration.js'
import { connect, connectionHelp, connectionOptions, intFlag } from '../context.js'
import { filterHelp, filterOptions, filterParams, listAll, orderParams, type AsyncEventItem, type ListPage } from '../list-query.js'
import { paint, statusColor, table, type Output } from '../output.js'
import { fromApiTime } from '../time.js'
import { UsageError } from '../errors.js'


export const usage = `usage: scf-graceful events list --function NAME [filters] [--order asc|desc] [--orderby start|end]
                               [--offset N] [--limit N | --all] [--json]

${filterHelp}

paging and order:
  --order asc|desc          default desc (newest first)
  --orderby start|end       StartTime (default) or EndTime
  --offset N                skip N events (default 0)
  --limit N                 events per request, 1-100 (default 20)
  --all                     page through every matching event (100 per request, paced under the rate limit)

${connectionHelp}

--json prints {"TotalCount": n, "EventList": [{InvokeRequestId, InvokeType, Qualifier, Status, StartTime, EndTime}]}
(the API's own shape; with --all, EventList holds every event).`

const options = {
  ...connectionOptions,
  ...filterOptions,
  order: { type: 'string' },
  orderby: { type: 'string' },
  offset: { type: 'string' },
  limit: { type: 'string' },
  all: { type: 'boolean' },
} as const

export async function run(argv: string[], out: Output): Promise<number> {
  const { values } = parseCommandLine(argv, options, 0)
  const params = { ...filterParams(values), ...orderParams(values) }
  const offset = intFlag('offset', values.offset, 0, 0)
  if (values.all && values.limit !== undefined) throw new UsageError('--all and --limit do not go together (--all pages 100 at a time)')
  const limit = intFlag('limit', values.limit, 20, 1, 100)
  const api = await connect(values, out)
  let page: ListPage
  if (values.all) {
    const progress = out.stderrIsTty && !out.json
    page = await listAll(api, params, offset, progress ? (seen, total) => out.errRaw(`\rlisting ${seen}/${total} events…`) : undefined)
    if (progress) out.errRaw('\r\u001b[K')
  } else {
    page = (await api.call('ListAsyncEvents', { ...params, Offset: offset, Limit: limit })) as unknown as ListPage
  }
  if (out.json) {
    out.out(JSON.stringify({ TotalCount: page.TotalCount, EventList: page.EventList, ...(page.RequestId ? { RequestId: page.RequestId } : {}) }, null, 2))
    return 0
  }
  if (page.EventList.length === 0) {
    out.out(page.TotalCount > 0 ? `no events at offset ${offset} (${page.TotalCount} match these filters)` : `no async events of ${values.function} match these filters`)
    return 0
  }
  out.out(eventTable(page.EventList, out.color))
  const shown = page.EventList.length
  if (values.all) out.out(`\n${shown} event${shown === 1 ? '' : 's'}`)
  else {
    const more = offset + shown < page.TotalCount
    out.out(`\n${offset + 1}-${offset + shown} of ${page.TotalCount} events${more ? `; next page: --offset ${offset + shown}, or --all` : ''}`)
  }
  return 0
}

/** The human table of events; durations run to now for RUNNING ones. */
export function eventTable(events: AsyncEventItem[], color: boolean, now = Date.now()): string {
  const rows = events.map((e) => {
    const start = fromApiTime(e.StartTime)
    const end = fromApiTime(e.EndTime)
    const duration = start === undefined ? '-' : end === undefined ? (e.Status === 'RUNNING' ? `${formatDuration(now - start)}…` : '-') : formatDuration(end - start)
    return [e.InvokeRequestId, paint(color, statusColor(e.Status), e.Status), trimTime(e.StartTime), trimTime(e.EndTime), duration, e.InvokeType, e.Qualifier]
  })
  return table(['REQUEST ID', 'STATUS', 'STARTED (UTC+8)', 'ENDED (UTC+8)', 'DURATION', 'TYPE', 'QUALIFIER'], rows, color)
}

/** Seconds are enough in a table; --json keeps the microseconds. */
function trimTime(t: string): string {
  return t ? t.replace(/\.\d+$/, '') : '-'
}
