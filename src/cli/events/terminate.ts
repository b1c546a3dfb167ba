/**
 * Terminating an async event the way the platform advises: graceful first (SIGTERM, `GraceShutdown: true`), then
 * poll `GetAsyncEventStatus` (not ListAsyncEvents) with backoff, and only if the event is still RUNNING when the
 * window closes, terminate it by force. Pure logic over an EventsApi, so it runs against the cloud, the emulator over
 * HTTP, or an in-process emulator alike.
 */
import { sleep, type EventsApi } from './api-client.js'
import { ApiCallError, toApiCallError } from './errors.js'

export type TerminateOutcome =
  /** SIGTERM was sent and the event ended within the window */
  | 'graceful'
  /** SIGTERM was sent, the event was still RUNNING when the window closed, and it was terminated by force */
  | 'escalated'
  /** terminated by force at once (no --grace) */
  | 'forced'
  /** still RUNNING at the end (escalation off, or even force did not end it in time) */
  | 'still-running'
  /** the event was not RUNNING when we got to it (FailedOperation.AsyncEventStatus) */
  | 'not-running'

export interface TerminateEventOptions {
  functionName: string
  namespace?: string | undefined
  requestId: string
  /** Send SIGTERM first. @default false (force at once, as the API's own default) */
  grace?: boolean
  /** How long a graceful terminate may take before force. @default 30_000 */
  escalateAfterMs?: number
  /** Force once the window closes. @default true */
  escalate?: boolean
  /** After a force terminate, how long to wait for the event to leave RUNNING. @default 10_000 */
  confirmTimeoutMs?: number
  /** First poll delay; grows x1.5 up to pollMaxMs. @default 250 */
  pollInitialMs?: number
  /** @default 2000 */
  pollMaxMs?: number
  /** Told when the force step starts (the CLI prints a line). */
  onEscalate?: (info: { requestId: string; afterMs: number }) => void
}

export interface TerminateReport {
  requestId: string
  functionName: string
  namespace: string
  outcome: TerminateOutcome
  graceSent: boolean
  forceSent: boolean
  /** The last status seen (RUNNING, FINISHED, FAILED, ABORTED). */
  status: string | undefined
  statusCode: number | undefined
  /** From the first request to the final status. */
  elapsedMs: number
  /** From SIGTERM to the end of the event, or to the escalation. */
  graceMs: number | undefined
  /** GetAsyncEventStatus calls made. */
  polls: number
  /** The API error that stopped us (for `not-running`: FailedOperation.AsyncEventStatus). */
  error?: { code: string; message: string; requestId: string | undefined }
}

interface Status {
  Status: string
  StatusCode: number
}

/** Terminates one event; resolves with what happened. Rejects only on API errors other than "not RUNNING". */
export async function terminateEvent(api: EventsApi, options: TerminateEventOptions): Promise<TerminateReport> {
  const namespace = options.namespace ?? 'default'
  const window = options.escalateAfterMs ?? 30_000
  const pollInitial = options.pollInitialMs ?? 250
  const pollMax = options.pollMaxMs ?? 2000
  const t0 = performance.now()
  const report: TerminateReport = {
    requestId: options.requestId,
    functionName: options.functionName,
    namespace,
    outcome: 'still-running',
    graceSent: false,
    forceSent: false,
    status: undefined,
    statusCode: undefined,
    elapsedMs: 0,
    graceMs: undefined,
    polls: 0,
  }
  const finish = (outcome: TerminateOutcome, status?: Status) => {
    report.outcome = outcome
    if (status) [report.status, report.statusCode] = [status.Status, status.StatusCode]
    report.elapsedMs = Math.round(performance.now() - t0)
    return report
  }
  const getStatus = async (): Promise<Status> => {
    report.polls++
    const res = await api.call('GetAsyncEventStatus', { InvokeRequestId: options.requestId })
    return res.Result as Status
  }
  /** Polls until the event leaves RUNNING or `ms` pass; returns the last status. */
  const waitEnded = async (ms: number): Promise<Status> => {
    const deadline = performance.now() + ms
    let delay = pollInitial
    for (;;) {
      const left = deadline - performance.now()
      // this sleep is the command's work, so it keeps the process alive (not unref'ed); bounded by the window
      await sleep(Math.max(0, Math.min(delay, left)))
      const status = await getStatus()
      if (status.Status !== 'RUNNING' || performance.now() >= deadline) return status
      delay = Math.min(pollMax, delay * 1.5)
    }
  }
  /** Sends TerminateAsyncEvent; false if the event was no longer RUNNING. */
  const send = async (grace: boolean): Promise<boolean> => {
    try {
      await api.call('TerminateAsyncEvent', { FunctionName: options.functionName, Namespace: namespace, InvokeRequestId: options.requestId, GraceShutdown: grace })
      return true
    } catch (err) {
      const e = toApiCallError('TerminateAsyncEvent', err)
      if (e.apiCode !== 'FailedOperation.AsyncEventStatus') throw e
      report.error = { code: e.apiCode, message: e.message, requestId: e.requestId }
      return false
    }
  }

  if (options.grace) {
    if (!(await send(true))) return finish('not-running', await statusOrUndefined(getStatus))
    report.graceSent = true
    const tGrace = performance.now()
    const status = await waitEnded(window)
    report.graceMs = Math.round(performance.now() - tGrace)
    if (status.Status !== 'RUNNING') return finish('graceful', status)
    if (options.escalate === false) return finish('still-running', status)
    options.onEscalate?.({ requestId: options.requestId, afterMs: report.graceMs })
    // it may end between our last poll and the force request: then it ended gracefully after all
    if (!(await send(false))) {
      delete report.error
      return finish('graceful', await statusOrUndefined(getStatus))
    }
    report.forceSent = true
    const after = await waitEnded(options.confirmTimeoutMs ?? 10_000)
    return finish(after.Status === 'RUNNING' ? 'still-running' : 'escalated', after)
  }

  if (!(await send(false))) return finish('not-running', await statusOrUndefined(getStatus))
  report.forceSent = true
  // the real API answers before the instance is gone: confirm with the status
  const after = await waitEnded(options.confirmTimeoutMs ?? 10_000)
  return finish(after.Status === 'RUNNING' ? 'still-running' : 'forced', after)
}

async function statusOrUndefined(get: () => Promise<Status>): Promise<Status | undefined> {
  try {
    return await get()
  } catch (err) {
    if (err instanceof ApiCallError || (err as { code?: unknown })?.code) return undefined
    throw err
  }
}

export interface BulkTerminateOptions extends Omit<TerminateEventOptions, 'requestId'> {
  /** The events to terminate. */
  requestIds: string[]
  /** Events handled at once (each polls on its own; the pacer keeps the total under the rate limit). @default 4 */
  concurrency?: number
  /** Called after each event is settled. */
  onSettled?: (done: number, total: number, report: TerminateReport | undefined, error: ApiCallError | undefined) => void
}

export interface BulkResult {
  reports: TerminateReport[]
  /** Events whose terminate failed with an API error (not "not RUNNING"). */
  errors: Array<{ requestId: string; error: ApiCallError }>
  elapsedMs: number
}

/** Terminates many events with bounded concurrency; one event's error does not stop the others. */
export async function terminateMany(api: EventsApi, options: BulkTerminateOptions): Promise<BulkResult> {
  const t0 = performance.now()
  const ids = [...options.requestIds]
  const reports: TerminateReport[] = []
  const errors: BulkResult['errors'] = []
  let done = 0
  const worker = async () => {
    for (let id = ids.shift(); id !== undefined; id = ids.shift()) {
      let report: TerminateReport | undefined
      let error: ApiCallError | undefined
      try {
        report = await terminateEvent(api, { ...options, requestId: id })
        reports.push(report)
      } catch (err) {
        error = toApiCallError('TerminateAsyncEvent', err)
        errors.push({ requestId: id, error })
      }
      options.onSettled?.(++done, options.requestIds.length, report, error)
    }
  }
  const n = Math.max(1, Math.min(options.concurrency ?? 4, options.requestIds.length))
  await Promise.all(Array.from({ length: n }, worker))
  return { reports, errors, elapsedMs: Math.round(performance.now() - t0) }
}
