/** The ListAsyncEvents filters as flags (shared by `list` and bulk `terminate`), and paging through all results. */
import type { ListAsyncEventsItem } from '../../emulator/actions.js'
import type { EventsApi } from './api-client.js'
import { didYouMean } from '../args.js'
import { UsageError } from './errors.js'
import { intFlag } from './context.js'
import { parseTimeArg, toApiTime } from './time.js'

export const filterOptions = {
  function: { type: 'string', short: 'f' },
  namespace: { type: 'string', short: 'n' },
  qualifier: { type: 'string' },
  'invoke-type': { type: 'string', multiple: true },
  status: { type: 'string', multiple: true, short: 's' },
  'started-from': { type: 'string' },
  'started-before': { type: 'string' },
  'ended-from': { type: 'string' },
  'ended-before': { type: 'string' },
  'request-id': { type: 'string' },
} as const

export const filterHelp = `filters (ListAsyncEvents):
  -f, --function NAME       the function (required)
  -n, --namespace NS        default: default
  --qualifier Q             version or alias ($LATEST, 1, ...)
  --invoke-type T           repeatable or comma-separated: OTHERS, TIMER, COS, CMQ, CKAFKA, APIGW, ...
  -s, --status S            repeatable or comma-separated: RUNNING, FINISHED, FAILED, ABORTED
  --started-from TIME       StartTimeInterval.Start (inclusive)
  --started-before TIME     StartTimeInterval.End (exclusive)
  --ended-from TIME         EndTimeInterval.Start (inclusive)
  --ended-before TIME       EndTimeInterval.End (exclusive)
  --request-id ID           InvokeRequestId: just this event
  TIME is "2026-11-30 08:00:00" (UTC+8, the API's zone), ISO 8601 with a zone (2026-11-30T00:00:00Z),
  a duration ago (30m, 2h, 1d) or now. A missing other end of a range is 3 days ago / tomorrow.`

export interface FilterValues {
  function?: string | undefined
  namespace?: string | undefined
  qualifier?: string | undefined
  'invoke-type'?: string[] | undefined
  status?: string[] | undefined
  'started-from'?: string | undefined
  'started-before'?: string | undefined
  'ended-from'?: string | undefined
  'ended-before'?: string | undefined
  'request-id'?: string | undefined
}

const STATUSES = ['RUNNING', 'FINISHED', 'FAILED', 'ABORTED']
const RETENTION_MS = 3 * 86_400_000

/** Repeated and comma-separated values, trimmed, empties dropped. */
export function listValues(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)
}

export function statusesOf(values: string[] | undefined): string[] {
  const statuses = listValues(values).map((s) => s.toUpperCase())
  for (const s of statuses) if (!STATUSES.includes(s)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}, got "${s}"${didYouMean(s, STATUSES)}`)
  return [...new Set(statuses)]
}

function interval(fromFlag: string, toFlag: string, from: string | undefined, to: string | undefined, now: number): { Start: string; End: string } | undefined {
  if (from === undefined && to === undefined) return undefined
  const parse = (flag: string, text: string) => {
    const t = parseTimeArg(text, now)
    if (t === undefined) throw new UsageError(`--${flag} must be a time like "2026-11-30 08:00:00" (UTC+8), 2026-11-30T00:00:00Z, 2h (ago) or now; got "${text}"`)
    return t
  }
  const start = from === undefined ? now - RETENTION_MS : parse(fromFlag, from)
  const end = to === undefined ? now + 86_400_000 : parse(toFlag, to)
  if (start > end) throw new UsageError(`--${fromFlag} must not be later than --${toFlag}`)
  return { Start: toApiTime(start), End: toApiTime(end) }
}

/** ListAsyncEvents parameters from the filter flags (without Order/Offset/Limit). */
export function filterParams(values: FilterValues, now = Date.now()): Record<string, unknown> {
  if (!values.function) throw new UsageError('--function is required (ListAsyncEvents lists the events of one function)')
  const params: Record<string, unknown> = { FunctionName: values.function }
  if (values.namespace) params.Namespace = values.namespace
  if (values.qualifier) params.Qualifier = values.qualifier
  const types = listValues(values['invoke-type']).map((t) => t.toUpperCase())
  if (types.length) params.InvokeType = types
  const statuses = statusesOf(values.status)
  if (statuses.length) params.Status = statuses
  const start = interval('started-from', 'started-before', values['started-from'], values['started-before'], now)
  if (start) params.StartTimeInterval = start
  const end = interval('ended-from', 'ended-before', values['ended-from'], values['ended-before'], now)
  if (end) params.EndTimeInterval = end
  if (values['request-id']) params.InvokeRequestId = values['request-id']
  return params
}

export function orderParams(values: { order?: string | undefined; orderby?: string | undefined }): { Order?: string; Orderby?: string } {
  const out: { Order?: string; Orderby?: string } = {}
  if (values.order !== undefined) {
    const o = values.order.toUpperCase()
    if (o !== 'ASC' && o !== 'DESC') throw new UsageError(`--order must be asc or desc, got "${values.order}"`)
    out.Order = o
  }
  if (values.orderby !== undefined) {
    const o = values.orderby.toLowerCase().replace(/[-_]/g, '')
    if (o === 'start' || o === 'starttime') out.Orderby = 'StartTime'
    else if (o === 'end' || o === 'endtime') out.Orderby = 'EndTime'
    else throw new UsageError(`--orderby must be start or end (StartTime or EndTime), got "${values.orderby}"`)
  }
  return out
}

/** One event of a ListAsyncEvents page (the API's own shape, whoever answers: SCF or the emulator). */
export type AsyncEventItem = ListAsyncEventsItem

export interface ListPage {
  TotalCount: number
  EventList: AsyncEventItem[]
  RequestId?: string
}

/**
 * Every event matching `params`, 100 per request from `offset`. Events that move between pages while we page
 * (new ones arrive on top in DESC order) are de-duplicated by id.
 */
export async function listAll(api: EventsApi, params: Record<string, unknown>, offset = 0, onPage?: (seen: number, total: number) => void): Promise<ListPage> {
  const seen = new Map<string, AsyncEventItem>()
  let total = 0
  for (let at = offset; ; ) {
    const page = (await api.call('ListAsyncEvents', { ...params, Offset: at, Limit: 100 })) as unknown as ListPage
    total = page.TotalCount
    for (const e of page.EventList) if (!seen.has(e.InvokeRequestId)) seen.set(e.InvokeRequestId, e)
    at += page.EventList.length
    onPage?.(seen.size, total)
    if (page.EventList.length === 0 || at >= total) break
  }
  return { TotalCount: total, EventList: [...seen.values()] }
}

