/**
 * The API actions (version 2018-04-16): parameter validation and response shapes as the real service has them.
 * Shared by the HTTP endpoint (after the signature check) and `emulator.call()` (in-process, no signature).
 */
import { scfLimits } from '../scf/status.js'
import { ApiError, checkParams, FUNCTION_NAME_RE, NAMESPACE_RE, QUALIFIER_RE, truncate, type ParamSpec, type TimeIntervalParam } from './api-params.js'
import type { EventDb, EventQuery } from './event-db.js'
import { formatEventTime, parseEventTime } from './event-time.js'

/** The actions the emulator answers. */
export const ACTIONS = ['Invoke', 'InvokeFunction', 'ListAsyncEvents', 'GetAsyncEventStatus', 'TerminateAsyncEvent'] as const
export type ActionName = (typeof ACTIONS)[number]

/** What an action needs from the emulator. */
export interface ActionCore {
  readonly utcOffsetMinutes: number
  readonly db: EventDb
  /** The function's settings, or undefined if there is no such function. */
  functionInfo(namespace: string, name: string): FunctionInfo | undefined
  hasNamespace(namespace: string): boolean
  purgeIfDue(): void
  /** Starts an async execution; resolves with its RequestId. */
  invokeAsync(namespace: string, name: string, qualifier: string, event: unknown): string
  invokeSync(namespace: string, name: string, qualifier: string, event: unknown, logTail: boolean): Promise<InvokeResult>
  terminate(requestId: string, grace: boolean): Promise<void>
}

/** What the actions need to know about a function. */
export interface FunctionInfo {
  /** The version or alias it was configured with (besides `$LATEST`, which every function has). */
  qualifier: string
  /** SCF's AsyncRunEnable: every invocation runs as an async event and is answered with its RequestId only. */
  asyncRunEnable: boolean
  /** SCF's TraceEnable: async events are recorded, so the event APIs see them. */
  traceEnable: boolean
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
  // SCF's synchronous invoke action (doc 583/58400)
  InvokeFunction: {
    FunctionName: { kind: 'string', required: true },
    Qualifier: { kind: 'string' },
    Event: { kind: 'string' },
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

/** The parameters an action takes (the request styles with flat string parameters type them by it). */
export function paramSpec(action: ActionName): ParamSpec {
  return SPECS[action]
}

/** Requests per second per action, as the current API pages say: the invoke actions 100, the event APIs 20. */
export const DEFAULT_RATE_LIMITS: Readonly<Record<ActionName, number>> = {
  Invoke: 100,
  InvokeFunction: 100,
  ListAsyncEvents: 20,
  GetAsyncEventStatus: 20,
  TerminateAsyncEvent: 20,
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
    case 'InvokeFunction':
      return invokeFunction(core, p)
    case 'ListAsyncEvents':
      return listAsyncEvents(core, p)
    case 'GetAsyncEventStatus':
      return getAsyncEventStatus(core, p)
    case 'TerminateAsyncEvent':
      return terminateAsyncEvent(core, p)
  }
}

/** Validates FunctionName/Namespace and finds the function; returns its namespace and qualifier. */
function resolveFunction(core: ActionCore, p: Record<string, unknown>, code: { name: string; ns: string }): { namespace: string; name: string } & FunctionInfo {
  const name = p.FunctionName as string
  const namespace = (p.Namespace as string | undefined) ?? 'default'
  if (!FUNCTION_NAME_RE.test(name)) throw new ApiError(code.name, `FunctionName ${JSON.stringify(truncate(name))} is not valid: 2-60 letters, digits, - or _, starting with a letter.`)
  if (!NAMESPACE_RE.test(namespace)) throw new ApiError(code.ns, `Namespace ${JSON.stringify(truncate(namespace))} is not valid: 1-30 letters, digits, - or _.`)
  if (!core.hasNamespace(namespace)) throw new ApiError('ResourceNotFound.Namespace', `Namespace ${namespace} does not exist.`)
  const info = core.functionInfo(namespace, name)
  if (info === undefined) throw new ApiError('ResourceNotFound.Function', `Function ${name} does not exist in namespace ${namespace}.`)
  return { namespace, name, ...info }
}

/**
 * The qualifier an invocation runs under: `$LATEST` always exists (and is the default); `$DEFAULT` is the default
 * alias, which points at `$LATEST`; the configured version or alias exists besides.
 */
function invokeQualifier(fn: FunctionInfo & { name: string }, given: string | undefined): string {
  const qualifier = given ?? '$LATEST'
  if (!QUALIFIER_RE.test(qualifier)) throw new ApiError('InvalidParameterValue', `Qualifier ${JSON.stringify(truncate(qualifier))} is not valid.`)
  if (qualifier === '$LATEST' || qualifier === '$DEFAULT') return '$LATEST'
  if (qualifier !== fn.qualifier) throw new ApiError('ResourceNotFound.Function', `Function ${fn.name} has no version or alias ${qualifier} (the emulator serves $LATEST and ${fn.qualifier}).`)
  return qualifier
}

/** RoutingKey: a JSON object of string keys and string values, at most 1024 bytes (doc 583/58400). */
const ROUTING_KEY_MAX_BYTES = 1024
function checkRoutingKey(value: unknown): void {
  if (value === undefined) return
  const raw = value as string
  const bytes = Buffer.byteLength(raw)
  if (bytes > ROUTING_KEY_MAX_BYTES) throw new ApiError('InvalidParameterValue', `RoutingKey is ${bytes} bytes; at most ${ROUTING_KEY_MAX_BYTES} are allowed.`)
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    parsed = undefined
  }
  const ok = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && Object.values(parsed).every((v) => typeof v === 'string')
  if (!ok) throw new ApiError('InvalidParameterValue', 'RoutingKey must be a JSON object of string keys and string values, such as {"k":"v"}.')
}

function checkLogType(value: unknown): boolean {
  const logType = (value as string | undefined) ?? 'None'
  if (logType !== 'None' && logType !== 'Tail') throw new ApiError('InvalidParameterValue', `LogType must be None or Tail, got ${JSON.stringify(truncate(logType))}.`)
  return logType === 'Tail'
}

/** Parses the event, after the size check of its invocation type. */
function readEvent(raw: string, param: string, limit: number, kind: string): unknown {
  const bytes = Buffer.byteLength(raw)
  if (bytes > limit) throw new ApiError('InvalidParameterValue.Param', `${param} is ${bytes} bytes; ${kind} invocations accept at most ${limit} bytes (406 RequestTooLarge).`)
  try {
    return JSON.parse(raw)
  } catch {
    throw new ApiError('InvalidParameterValue.Param', `${param} must be a JSON string (the event).`)
  }
}

/** An async execution's answer: its RequestId and nothing else. */
function requestIdOnly(requestId: string): Record<string, unknown> {
  return { Result: { FunctionRequestId: requestId, RetMsg: '', ErrMsg: '', Log: '', Duration: 0, BillDuration: 0, MemUsage: 0, InvokeResult: 0 } }
}

async function invoke(core: ActionCore, p: Record<string, unknown>): Promise<Record<string, unknown>> {
  const fn = resolveFunction(core, p, { name: 'InvalidParameter.FunctionName', ns: 'InvalidParameterValue' })
  const type = (p.InvocationType as string | undefined) ?? 'RequestResponse'
  if (type !== 'Event' && type !== 'RequestResponse') throw new ApiError('InvalidParameterValue', `InvocationType must be Event or RequestResponse, got ${JSON.stringify(truncate(type))}.`)
  const tail = checkLogType(p.LogType)
  const qualifier = invokeQualifier(fn, p.Qualifier as string | undefined)
  checkRoutingKey(p.RoutingKey)
  // the size limit is the one of the invocation type the caller chose (an async-execution function answers a
  // RequestResponse invoke with the RequestId, but the request was a synchronous one)
  const event = readEvent((p.ClientContext as string | undefined) ?? '{}', 'ClientContext', type === 'Event' ? scfLimits.asyncEventBytes : scfLimits.syncEventBytes, type === 'Event' ? 'async' : 'sync')
  // async execution: every invocation, RequestResponse included, runs as an async event (doc 583/51519)
  if (type === 'Event' || fn.asyncRunEnable) return requestIdOnly(core.invokeAsync(fn.namespace, fn.name, qualifier, event))
  return { Result: await core.invokeSync(fn.namespace, fn.name, qualifier, event, tail) }
}

async function invokeFunction(core: ActionCore, p: Record<string, unknown>): Promise<Record<string, unknown>> {
  const fn = resolveFunction(core, p, { name: 'InvalidParameter.FunctionName', ns: 'InvalidParameterValue' })
  const tail = checkLogType(p.LogType)
  const qualifier = invokeQualifier(fn, (p.Qualifier as string | undefined) ?? '$DEFAULT')
  checkRoutingKey(p.RoutingKey)
  const event = readEvent((p.Event as string | undefined) ?? '{}', 'Event', scfLimits.syncEventBytes, 'sync')
  if (fn.asyncRunEnable) return requestIdOnly(core.invokeAsync(fn.namespace, fn.name, qualifier, event))
  return { Result: await core.invokeSync(fn.namespace, fn.name, qualifier, event, tail) }
}

function interval(core: ActionCore, value: unknown, param: string): { from: number; to: number } | undefined {
  if (value === undefined || value === null) return undefined
  const v = value as TimeIntervalParam
  const from = parseEventTime(v.Start, core.utcOffsetMinutes, `${param}.Start`)
  const to = parseEventTime(v.End, core.utcOffsetMinutes, `${param}.End`)
  if (from > to) throw new ApiError('InvalidParameterValue', `${param}.Start must not be later than ${param}.End.`)
  return { from, to }
}

/** One item of ListAsyncEvents' `EventList`, as the Tencent Cloud API (and so the emulator) answers it. */
export interface ListAsyncEventsItem {
  InvokeRequestId: string
  InvokeType: string
  Qualifier: string
  Status: string
  /** UTC+8 `YYYY-MM-DD HH:mm:ss.ffffff` */
  StartTime: string
  /** '' while the event runs */
  EndTime: string
}

function listAsyncEvents(core: ActionCore, p: Record<string, unknown>): Record<string, unknown> {
  const fn = resolveFunction(core, p, { name: 'InvalidParameterValue.FunctionName', ns: 'InvalidParameterValue.Namespace' })
  const qualifier = p.Qualifier as string | undefined
  if (qualifier !== undefined && qualifier !== fn.qualifier && qualifier !== '$LATEST') throw new ApiError('ResourceNotFound.Version', `Function ${fn.name} has no version ${JSON.stringify(truncate(qualifier))}.`)
  const invokeTypes = distinct(p.InvokeType as string[] | undefined, 'InvokeType', INVOKE_TYPES.size)
  for (const t of invokeTypes ?? []) if (!INVOKE_TYPES.has(t)) throw new ApiError('InvalidParameterValue.InvokeType', `InvokeType ${JSON.stringify(truncate(t))} is not valid (one of ${[...INVOKE_TYPES].join(', ')}).`)
  const statuses = distinct(p.Status as string[] | undefined, 'Status', STATUSES.size)
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
    EventList: rows.map((r): ListAsyncEventsItem => ({
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

/**
 * A filter list without repeats. A list longer than a generous bound is a parameter error before anything looks at
 * its entries (a 100k-entry list would otherwise reach the event store).
 */
function distinct(list: string[] | undefined, param: string, values: number): string[] | undefined {
  if (list === undefined) return undefined
  const max = values * 10
  if (list.length > max) throw new ApiError(`InvalidParameterValue.${param}`, `${param} has ${list.length} entries; at most ${max} are accepted (there are ${values} distinct values).`)
  return [...new Set(list)]
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
