/**
 * What the console's server and its browser code both speak: the JSON shapes of the console endpoints and the
 * constants the page shows. Types and plain data only (the browser bundle imports this file).
 */

// the emulator's own shapes (type-only: erased from the browser bundle); an event record's times are ms since epoch
import type { AsyncEventRecord as EventRecord } from '../emulator.js'
import type { ListAsyncEventsItem } from '../actions.js'
export type { EventRecord }
export type { EventLogLine as LogLine, FunctionSummary } from '../emulator.js'

/** One row of GET /api/events: ListAsyncEvents' EventList item plus exact times. */
export interface EventListRow extends ListAsyncEventsItem {
  StatusCode?: number
  StartMs?: number
  EndMs?: number | null
}

/** GET /api/events */
export interface EventsPage {
  TotalCount: number
  EventList: EventListRow[]
  /** Matches per status under the same filters, the status filter aside (the numbers on the status chips). */
  Counts: Record<string, number>
  /** Pending graceful-then-force escalations: request id -> when force is sent (ms since epoch). */
  Escalations: Record<string, number>
}

export type MarkKind = 'sigterm' | 'signal-failed' | 'force' | 'checkpoint' | 'flush' | 'persist-failed'

export interface TimelineMark {
  time: number
  kind: MarkKind
  text: string
}

export interface TimelineEvent {
  requestId: string
  instanceId: string | null
  status: string
  statusCode: number
  startTime: number
  endTime: number | null
  marks: TimelineMark[]
}

/** GET /api/timeline */
export interface Timeline {
  now: number
  events: TimelineEvent[]
}

/** POST /api/terminate */
export interface TerminateRequest {
  functionName: string
  namespace?: string
  /** one event, or `requestIds` for several */
  requestId?: string
  requestIds?: string[]
  grace: boolean
  /** With grace: send force if the event is still RUNNING after this long. */
  escalateAfterMs?: number
}

export interface TerminateResult {
  requestId: string
  ok: boolean
  event: EventRecord | null
  escalateAt?: number
  error?: { code: string; message: string }
}

export interface TerminateResponse {
  ok: boolean
  event: EventRecord | null
  results: TerminateResult[]
}

export const STATUSES = ['RUNNING', 'FINISHED', 'FAILED', 'ABORTED'] as const

export const INVOKE_TYPES = ['OTHERS', 'TIMER', 'COS', 'CMQ', 'CKAFKA', 'APIGW', 'CLS', 'MPS', 'TDMQ', 'EB', 'MQTT'] as const

export const CODE_MEANING: Record<number, string> = {
  0: 'running',
  200: 'the handler returned',
  430: 'the handler threw',
  432: 'no instance was free',
  433: 'it ran past its timeout',
  434: 'memory limit reached',
  439: 'the process exited',
  499: 'terminated by force',
  500: 'the emulator stopped',
}

/** The default wait between SIGTERM and force, as `scf-graceful events terminate --grace` uses. */
export const DEFAULT_ESCALATE_AFTER_MS = 30_000
/** At most this many events in one bulk terminate. */
export const MAX_BULK = 100
