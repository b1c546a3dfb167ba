/** Terminating events from the page: one or several, by force, or gracefully with escalation to force. */
import { api } from './api.js'
import { h } from './dom.js'
import { fmtDuration } from './format.js'
import { app, currentFn, state } from './state.js'
import { confirmDialog, showError, toast } from './ui.js'
import { DEFAULT_ESCALATE_AFTER_MS, type TerminateResponse } from '../shared.js'

const ESCALATE_CHOICES = [10_000, 30_000, 60_000, 300_000, 0]

/**
 * Asks, then terminates `ids` (all of one function). Graceful sends SIGTERM and, unless the user chose "never",
 * force after the chosen wait if the event is still RUNNING (the server keeps that timer, so closing the tab does not
 * cancel it).
 */
export function confirmTerminate(ids: string[], grace: boolean, fn = currentFn()): void {
  if (!ids.length || !fn) return
  const many = ids.length > 1
  const escalate = h(
    'select',
    { 'data-testid': 'escalate-after', 'aria-label': 'Force after' },
    ...ESCALATE_CHOICES.map((ms) => h('option', { value: ms, text: ms ? `force after ${fmtDuration(ms)}` : 'never force', selected: ms === DEFAULT_ESCALATE_AFTER_MS })),
  ) as HTMLSelectElement
  const what = many ? `${ids.length} events` : 'this event'
  confirmDialog({
    title: grace ? `Terminate ${many ? `${ids.length} events ` : ''}gracefully?` : `Terminate ${many ? `${ids.length} events ` : ''}by force?`,
    body: [
      many ? h('p', { class: 'small', 'data-testid': 'confirm-count', text: `${ids.length} RUNNING events of ${fn.name} are selected.` }) : h('p', { class: 'mono small', text: ids[0] as string }),
      h('p', {
        text: grace
          ? `Sends SIGTERM to the instance running ${what} (TerminateAsyncEvent, GraceShutdown=true). A function using scf-graceful stops its work, saves /tmp, and the event ends ABORTED. A function without a handler exits (status 439).`
          : `Kills the instance running ${what} at once (TerminateAsyncEvent, GraceShutdown=false). The function gets no chance to react and its /tmp is wiped. The event ends ABORTED with status 499.`,
      }),
      grace ? h('label', { class: 'escalate' }, 'If still running: ', escalate) : null,
    ],
    ok: grace ? 'Send SIGTERM' : many ? `Kill ${ids.length}` : 'Kill it',
    okClass: grace ? 'btn-warn' : 'btn-danger',
    onOk: () => void terminate(ids, grace, grace ? Number(escalate.value) : 0, fn),
  })
}

export async function terminate(ids: string[], grace: boolean, escalateAfterMs: number, fn = currentFn()): Promise<void> {
  if (!fn) return
  try {
    const res = await api<TerminateResponse>('/api/terminate', {
      functionName: fn.name,
      namespace: fn.namespace,
      ...(ids.length === 1 ? { requestId: ids[0] } : { requestIds: ids }),
      grace,
      ...(grace && escalateAfterMs > 0 ? { escalateAfterMs } : {}),
    })
    const failed = res.results.filter((r) => !r.ok)
    for (const r of res.results) if (r.escalateAt) state.escalations[r.requestId] = r.escalateAt
    for (const r of res.results) if (r.ok) state.checked.delete(r.requestId)
    const done = res.results.length - failed.length
    if (done) {
      const after = grace && escalateAfterMs > 0 ? `; force after ${fmtDuration(escalateAfterMs)} if still running` : ''
      toast('info', grace ? `SIGTERM sent to ${done === 1 ? '1 event' : `${done} events`}` : `Terminated ${done === 1 ? '1 event' : `${done} events`} by force`, grace ? `Waiting for the function to stop${after}.` : undefined)
    }
    if (failed.length) toast('error', `${failed.length} could not be terminated`, failed.map((f) => `${f.requestId.slice(0, 8)}…: ${f.error?.code ?? ''} ${f.error?.message ?? ''}`).join('\n'))
    app.refreshDetails()
    app.reloadSoon()
  } catch (err) {
    showError('Terminate failed', err)
  }
}
