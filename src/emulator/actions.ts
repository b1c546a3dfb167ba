/**
 * The four API actions (version 2018-04-16): parameter validation and response shapes as the real service has them.
 * Shared by the HTTP endpoint (after the signature check) and `emulator.call()` (in-process, no signature).
 */
import { scfLimits } from '../scf/status.js'
import { ApiError, checkParams, FUNCTION_NAME_RE, NAMESPACE_RE, QUALIFIER_RE, truncate, type ParamSpec, type TimeIntervalParam } from './api-params.js'
import type { EventDb, EventQuery } from './event-db.js'
import { formatEventTime, parseEventTime } from './event-time.js'

/** The actions the emulator answers. */
export const ACTIONS = ['Invoke', 'ListAsyncEvents', 'GetAsyncEventStatus', 'TerminateAsyncEvent'] as const
export type ActionName = (typeof ACTIONS)[number]

/** What an action needs from the emulator. */
export interface ActionCore {
  readonly utcOffsetMinutes: number
  readonly db: EventDb
  /** namespace -> function name -> qualifier */
  functionQualifier(namespace: string, name: string): string | undefined
  hasNamespace(namespace: string): boolean
  purgeIfDue(): void
  invokeAsync(namespace: string, name: string, qualifier: string, event: unknown): string
  invokeSync(namespace: string, name: string, qualifier: string, event: unknown, logTail: boolean): Promise<InvokeResult>
  terminate(requestId: string, grace: boolean): Promise<void>
}

/** `Result` of Invoke, as in the SDK's models (`Result` in scf_models). */
export interface InvokeResult {
  FunctionRequestId: string
  RetMsg: string
  ErrMsg: string
  Log: string
  Duration: number
  BillDuration: number
  MemUsage: number
  InvokeResult: number
}

/** Invoke's `InvokeType` of an event that came through the API (the real list also has COS, TIMER, CMQ, ...). */
export const API_INVOKE_TYPE = 'OTHERS'
const INVOKE_TYPES = new Set(['OTHERS', 'API', 'APIGW', 'COS', 'TIMER', 'CMQ', 'CKAFKA', 'CLS', 'MPS', 'TDMQ', 'EB', 'MQTT'])
const STATUSES = new Set(['RUNNING', 'FINISHED', 'FAILED', 'ABORTED'])

const SPECS: Record<ActionName, ParamSpec> = {
  Invoke: {
    FunctionName: { kind: 'string', required: true },
    InvocationType: { kind: 'string' },
    Qualifier: { kind: 'string' },
    ClientContext: { kind: 'string' },
    LogType: { kind: 'string' },
    Namespace: { kind: 'string' },
    RoutingKey: { kind: 'string' },
  },
  ListAsyncEvents: {
    FunctionName: { kind: 'string', required: true },
    Namespace: { kind: 'string' },
    Qualifier: { kind: 'string' },
    InvokeType: { kind: 'string[]' },
    Status: { kind: 'string[]' },
    StartTimeInterval: { kind: 'interval' },
    EndTimeInterval: { kind: 'interval' },
    Order: { kind: 'string' },
    Orderby: { kind: 'string' },
    Offset: { kind: 'integer' },
    Limit: { kind: 'integer' },
    InvokeRequestId: { kind: 'string' },
  },
  GetAsyncEventStatus: {
    InvokeRequestId: { kind: 'string', required: true },
  },
  TerminateAsyncEvent: {
    FunctionName: { kind: 'string', required: true },
    InvokeRequestId: { kind: 'string', required: true },
    Namespace: { kind: 'string' },
    GraceShutdown: { kind: 'boolean' },
  },
}

export function isAction(name: string): name is ActionName {
  return (ACTIONS as readonly string[]).includes(name)
}

/** Runs one action; resolves with the `Response` payload (without RequestId) or rejects with an ApiError. */
export async function runAction(core: ActionCore, action: string, params: unknown): Promise<Record<string, unknown>> {
  if (!isAction(action)) throw new ApiError('InvalidAction', `The action \`${truncate(action)}\` is not supported (the emulator answers ${ACTIONS.join(', ')}).`)
  const p = checkParams(params, SPECS[action])
  switch (action) {
    case 'Invoke':
      return invoke(core, p)
    case 'ListAsyncEvents':
      return listAsyncEvents(core, p)
    case 'GetAsyncEventStatus':
      return getAsyncEventStatus(core, p)
    case 'TerminateAsyncEvent':
      return terminateAsyncEvent(core, p)
  }
}

/** Validates FunctionName/Namespace and finds the function; returns its namespace and qualifier. */
function resolveFunction(core: ActionCore, p: Record<string, unknown>, code: { name: string; ns: string }): { namespace: string; name: string; qualifier: string } {
  const name = p.FunctionName as string
  const namespace = (p.Namespace as string | undefined) ?? 'default'
  if (!FUNCTION_NAME_RE.test(name)) throw new ApiError(code.name, `FunctionName ${JSON.stringify(truncate(name))} is not valid: 2-60 letters, digits, - or _, starting with a letter.`)
  if (!NAMESPACE_RE.test(namespace)) throw new ApiError(code.ns, `Namespace ${JSON.stringify(truncate(namespace))} is not valid: 1-30 letters, digits, - or _.`)
  if (!core.hasNamespace(namespace)) throw new ApiError('ResourceNotFound.Namespace', `Namespace ${namespace} does not exist.`)
  const qualifier = core.functionQualifier(namespace, name)
  if (qualifier === undefined) throw new ApiError('ResourceNotFound.Function', `Function ${name} does not exist in namespace ${namespace}.`)
  return { namespace, name, qualifier }
}

async function invoke(core: ActionCore, p: Record<string, unknown>): Promise<Record<string, unknown>> {
  const fn = resolveFunction(core, p, { name: 'InvalidParameter.FunctionName', ns: 'InvalidParameterValue' })
  const type = (p.InvocationType as string | undefined) ?? 'RequestResponse'
  if (type !== 'Event' && type !== 'RequestResponse') throw new ApiError('InvalidParameterValue', `InvocationType must be Event or RequestResponse, got ${JSON.stringify(truncate(type))}.`)
  const logType = (p.LogType as string | undefined) ?? 'None'
  if (logType !== 'None' && logType !== 'Tail') throw new ApiError('InvalidParameterValue', `LogType must be None or Tail, got ${JSON.stringify(truncate(logType))}.`)
  const qualifier = (p.Qualifier as string | undefined) ?? fn.qualifier
  if (!QUALIFIER_RE.test(qualifier)) throw new ApiError('InvalidParameterValue', `Qualifier ${JSON.stringify(truncate(qualifier))} is not valid.`)
  if (qualifier !== fn.qualifier && qualifier !== '$DEFAULT') throw new ApiError('ResourceNotFound.Function', `Function ${fn.name} has no version or alias ${qualifier} (the emulator serves ${fn.qualifier}).`)
  const raw = (p.ClientContext as string | undefined) ?? '{}'
  const bytes = Buffer.byteLength(raw)
  const limit = type === 'Event' ? scfLimits.asyncEventBytes : scfLimits.syncEventBytes
  if (bytes > limit) {
    throw new ApiError('InvalidParameterValue.Param', `ClientContext is ${bytes} bytes; ${type === 'Event' ? 'async' : 'sync'} invocations accept at most ${limit} bytes (406 RequestTooLarge).`)
  }
  let event: unknown
  try {
    event = JSON.parse(raw)
  } catch {
    throw new ApiError('InvalidParameterValue.Param', 'ClientContext must be a JSON string (the event).')
  }
  if (type === 'Event') {
    const requestId = core.invokeAsync(fn.namespace, fn.name, fn.qualifier, event)
    return { Result: { FunctionRequestId: requestId, RetMsg: '', ErrMsg: '', Log: '', Duration: 0, BillDuration: 0, MemUsage: 0, InvokeResult: 0 } }
  }
  return { Result: await core.invokeSync(fn.namespace, fn.name, fn.qualifier, event, logType === 'Tail') }
}

function interval(core: ActionCore, value: unknown, param: string): { from: number; to: number } | undefined {
  if (value === undefined || value === null) return undefined
  const v = value as TimeIntervalParam
  const from = parseEventTime(v.Start, core.utcOffsetMinutes, `${param}.Start`)
  const to = parseEventTime(v.End, core.utcOffsetMinutes, `${param}.End`)
  if (from > to) throw new ApiError('InvalidParameterValue', `${param}.Start must not be later than ${param}.End.`)
  return { from, to }
}

function listAsyncEvents(core: ActionCore, p: Record<string, unknown>): Record<string, unknown> {
  const fn = resolveFunction(core, p, { name: 'InvalidParameterValue.FunctionName', ns: 'InvalidParameterValue.Namespace' })
  const qualifier = p.Qualifier as string | undefined
  if (qualifier !== undefined && qualifier !== fn.qualifier) throw new ApiError('ResourceNotFound.Version', `Function ${fn.name} has no version ${JSON.stringify(truncate(qualifier))}.`)
  const invokeTypes = p.InvokeType as string[] | undefined
  for (const t of invokeTypes ?? []) if (!INVOKE_TYPES.has(t)) throw new ApiError('InvalidParameterValue.InvokeType', `InvokeType ${JSON.stringify(truncate(t))} is not valid (one of ${[...INVOKE_TYPES].join(', ')}).`)
  const statuses = p.Status as string[] | undefined
  for (const s of statuses ?? []) if (!STATUSES.has(s)) throw new ApiError('InvalidParameterValue.Status', `Status ${JSON.stringify(truncate(s))} is not valid (RUNNING, FINISHED, FAILED or ABORTED).`)
  const order = (p.Order as string | undefined) ?? 'DESC'
  if (order !== 'ASC' && order !== 'DESC') throw new ApiError('InvalidParameterValue.Order', `Order must be ASC or DESC, got ${JSON.stringify(truncate(order))}.`)
  const orderBy = (p.Orderby as string | undefined) ?? 'StartTime'
  if (orderBy !== 'StartTime' && orderBy !== 'EndTime') throw new ApiError('InvalidParameterValue', `Orderby must be StartTime or EndTime, got ${JSON.stringify(truncate(orderBy))}.`)
  const offset = (p.Offset as number | undefined) ?? 0
  if (offset < 0) throw new ApiError('InvalidParameterValue', `Offset must be 0 or more, got ${offset}.`)
  const limit = (p.Limit as number | undefined) ?? 20
  if (limit < 1 || limit > 100) throw new ApiError('InvalidParameterValue.Limit', `Limit must be between 1 and 100, got ${limit}.`)
  const start = interval(core, p.StartTimeInterval, 'StartTimeInterval')
  const end = interval(core, p.EndTimeInterval, 'EndTimeInterval')
  core.purgeIfDue()
  const q: EventQuery = { functionName: fn.name, namespace: fn.namespace, orderBy, order, offset, limit }
  if (qualifier !== undefined) q.qualifier = qualifier
  if (invokeTypes?.length) q.invokeTypes = invokeTypes
  if (statuses?.length) q.statuses = statuses
  if (start) [q.startFromUs, q.startToUs] = [start.from, start.to]
  if (end) [q.endFromUs, q.endToUs] = [end.from, end.to]
  if (p.InvokeRequestId !== undefined) q.invokeRequestId = p.InvokeRequestId as string
  const { total, rows } = core.db.query(q)
  return {
    TotalCount: total,
    EventList: rows.map((r) => ({
      InvokeRequestId: r.requestId,
      InvokeType: r.invokeType,
      Qualifier: r.qualifier,
      Status: r.status,
      StartTime: formatEventTime(r.startUs, core.utcOffsetMinutes),
      // a RUNNING event has no end yet: the emulator answers an empty string
      EndTime: r.endUs === null ? '' : formatEventTime(r.endUs, core.utcOffsetMinutes),
    })),
  }
}

function getAsyncEventStatus(core: ActionCore, p: Record<string, unknown>): Record<string, unknown> {
  const id = p.InvokeRequestId as string
  core.purgeIfDue()
  const row = core.db.get(id)
  if (!row) throw new ApiError('ResourceNotFound.AsyncEvent', `Async event ${JSON.stringify(truncate(id))} does not exist (or ended more than 3 days ago).`)
  return { Result: { Status: row.status, StatusCode: row.statusCode, InvokeRequestId: row.requestId } }
}

async function terminateAsyncEvent(core: ActionCore, p: Record<string, unknown>): Promise<Record<string, unknown>> {
  const fn = resolveFunction(core, p, { name: 'InvalidParameterValue.FunctionName', ns: 'InvalidParameterValue.Namespace' })
  const id = p.InvokeRequestId as string
  const row = core.db.get(id)
  if (!row || row.functionName !== fn.name || row.namespace !== fn.namespace) {
    throw new ApiError('ResourceNotFound.AsyncEvent', `Async event ${JSON.stringify(truncate(id))} of function ${fn.name} does not exist.`)
  }
  if (row.status !== 'RUNNING') throw new ApiError('FailedOperation.AsyncEventStatus', `Async event ${id} is ${row.status}, only a RUNNING event can be terminated.`)
  await core.terminate(id, (p.GraceShutdown as boolean | undefined) ?? false)
  return {}
}
