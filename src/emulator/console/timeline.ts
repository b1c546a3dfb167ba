/**
 * The data behind the console's timeline: a function's latest events with the instance that ran each, and marks
 * read from their logs (SIGTERM delivered or not, the force kill, the library's checkpoint and flush lines).
 */
import type { EventRecord, LogLine, MarkKind, Timeline, TimelineMark } from './shared.js'

export interface TimelineSource {
  call(action: string, params: object): Promise<Record<string, unknown>>
  getEvent?(requestId: string): EventRecord | undefined
  getEventLogs(requestId: string): LogLine[]
}

const PATTERNS: Array<[RegExp, MarkKind]> = [
  [/^\[PLATFORM\] Signal received successfully\./, 'sigterm'],
  [/^\[PLATFORM\] Signal reception failed\./, 'signal-failed'],
  [/persist: checkpoint done/, 'checkpoint'],
  [/persist: flush done/, 'flush'],
  [/persist: (checkpoint|flush) failed/, 'persist-failed'],
]
const MARK_TEXT_MAX = 200

/** Marks in one event's log. */
export function marksOf(record: EventRecord, lines: readonly LogLine[]): TimelineMark[] {
  const marks: TimelineMark[] = []
  for (const l of lines) {
    for (const [re, kind] of PATTERNS) {
      if (re.test(l.line)) {
        marks.push({ time: l.time, kind, text: l.line.slice(0, MARK_TEXT_MAX) })
        break
      }
    }
  }
  // SCF's force termination: the instance is killed, the event ends ABORTED with 499
  if (record.status === 'ABORTED' && record.statusCode === 499 && record.endTime !== null) marks.push({ time: record.endTime, kind: 'force', text: 'TerminateAsyncEvent, GraceShutdown=false' })
  return marks
}

export async function buildTimeline(source: TimelineSource, functionName: string, namespace: string, limit = 100): Promise<Timeline> {
  const page = (await source.call('ListAsyncEvents', { FunctionName: functionName, Namespace: namespace, Limit: limit })) as { EventList: Array<{ InvokeRequestId: string }> }
  const events: Timeline['events'] = []
  for (const item of page.EventList) {
    const r = source.getEvent?.(item.InvokeRequestId)
    if (!r) continue
    events.push({
      requestId: r.requestId,
      instanceId: r.instanceId ?? null,
      status: r.status,
      statusCode: r.statusCode,
      startTime: r.startTime,
      endTime: r.endTime,
      marks: marksOf(r, source.getEventLogs(r.requestId)),
    })
  }
  return { now: Date.now(), events }
}
