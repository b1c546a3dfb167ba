/** The selected event: its facts, result or error, terminate buttons (with a pending escalation) and its live log. */
import { api, streamUrl } from './api.js'
import { clear, h } from './dom.js'
import { fmtAbs, fmtClock, fmtDuration, pretty } from './format.js'
import { state } from './state.js'
import { confirmTerminate, terminate } from './terminate.js'
import { ago, countdown, pill, runningFor, showError, toast } from './ui.js'
import { CODE_MEANING, type EventRecord, type LogLine } from '../shared.js'

export interface DetailsView {
  panel: HTMLElement
  select(id: string | undefined): void
  /** Re-renders with the current record (an escalation started or ended). */
  refresh(): void
}

export function createDetailsView(onClose: () => void): DetailsView {
  const panel = h('aside', { class: 'card details', 'data-testid': 'details' })
  const logPre = h('div', { class: 'logs', 'data-testid': 'logs', role: 'log', 'aria-live': 'polite' })
  let logCount = 0
  let stream: EventSource | undefined
  let record: EventRecord | undefined

  function renderEmpty(): void {
    clear(panel)
    panel.append(h('div', { class: 'empty details-empty' }, h('strong', { text: 'No event selected' }), h('p', { text: 'Click an event in the list or a bar on the timeline to see its status, result and log.' })))
  }

  function render(): void {
    const r = record
    if (!r) return renderEmpty()
    clear(panel)
    const running = r.status === 'RUNNING'
    const meaning = CODE_MEANING[r.statusCode]
    const facts = h(
      'dl',
      { class: 'facts' },
      h('dt', { text: 'Function' }),
      h('dd', { text: `${r.namespace}/${r.functionName} · ${r.qualifier}` }),
      h('dt', { text: 'Started' }),
      h('dd', {}, fmtAbs(r.startTime), ' · ', ago(r.startTime)),
      h('dt', { text: running ? 'Running for' : 'Took' }),
      h('dd', {}, running ? runningFor(r.startTime) : fmtDuration((r.endTime ?? r.startTime) - r.startTime)),
      h('dt', { text: 'Status code' }),
      h('dd', { 'data-testid': 'status-code', text: `${r.statusCode}${meaning ? ` · ${meaning}` : ''}` }),
      r.instanceId ? h('dt', { text: 'Instance' }) : null,
      r.instanceId ? h('dd', { class: 'mono small', text: r.instanceId.slice(0, 8) }) : null,
    )
    const copy = h('button', {
      type: 'button',
      class: 'btn btn-small btn-ghost',
      text: 'Copy ID',
      onclick: () => void navigator.clipboard?.writeText(r.requestId).then(() => toast('ok', 'Copied the request id'), () => toast('error', 'Could not copy', 'The browser refused clipboard access.')),
    })
    panel.append(
      h('div', { class: 'card-head' }, h('h2', { text: 'Event' }), h('div', { class: 'head-actions' }, copy, h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': 'Close', text: '✕', onclick: onClose }))),
      h('div', { class: 'mono big-id', 'data-testid': 'details-id', text: r.requestId }),
      h('div', { class: 'details-status', 'data-testid': 'details-status' }, pill(r.status)),
      facts,
    )
    if (running) {
      const escalateAt = state.escalations[r.requestId]
      if (escalateAt) {
        // SIGTERM went out; the server sends force at escalateAt unless the event ends first
        panel.append(
          h(
            'div',
            { class: 'banner banner-warn', 'data-testid': 'escalation' },
            h('strong', { text: 'SIGTERM sent. ' }),
            'Force in ',
            countdown(escalateAt),
            ' if it is still running. ',
            h('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-testid': 'force-now', text: 'Force now', onclick: () => void terminate([r.requestId], false, 0) }),
          ),
        )
      } else {
        panel.append(
          h(
            'div',
            { class: 'actions' },
            h('button', { type: 'button', class: 'btn btn-warn', 'data-testid': 'details-terminate-grace', text: 'Terminate (graceful)', onclick: () => confirmTerminate([r.requestId], true) }),
            h('button', { type: 'button', class: 'btn btn-danger', 'data-testid': 'details-terminate-force', text: 'Terminate (force)', onclick: () => confirmTerminate([r.requestId], false) }),
          ),
        )
      }
    }
    if (r.retMsg !== null && r.retMsg !== undefined) panel.append(h('h3', { text: 'Result' }), h('pre', { class: 'result', text: pretty(r.retMsg) }))
    if (r.errMsg) panel.append(h('h3', { text: 'Error' }), h('pre', { class: 'result result-error', text: r.errMsg }))
    panel.append(h('h3', {}, 'Log ', h('span', { class: 'muted small', text: running ? '(live)' : '' })), logPre)
  }

  function appendLog(l: LogLine): void {
    if (logCount === 0) clear(logPre)
    logCount++
    const signal = l.line.startsWith('[PLATFORM]')
    const cls = signal ? 'l-platform-signal' : l.stream === 'platform' ? 'l-platform' : l.stream === 'stderr' ? 'l-stderr' : 'l-stdout'
    const stick = logPre.scrollTop + logPre.clientHeight >= logPre.scrollHeight - 8
    logPre.append(h('div', { class: `l ${cls}` }, h('span', { class: 'l-time', text: fmtClock(l.time) }), h('span', { class: 'l-stream', text: l.stream }), h('span', { class: 'l-text', text: l.line })))
    if (stick) logPre.scrollTop = logPre.scrollHeight
  }

  function select(id: string | undefined): void {
    stream?.close()
    stream = undefined
    record = undefined
    if (!id) return renderEmpty()
    clear(panel)
    panel.append(h('div', { class: 'empty details-empty', text: 'Loading…' }))
    clear(logPre)
    logCount = 0
    logPre.append(h('div', { class: 'muted', text: 'No log lines yet.' }))
    // the per-event stream replays the log so far, then the live lines, then closes when the event ends
    const es = new EventSource(streamUrl(id))
    stream = es
    es.addEventListener('log', (ev) => appendLog(JSON.parse((ev as MessageEvent).data) as LogLine))
    es.addEventListener('event', (ev) => {
      record = JSON.parse((ev as MessageEvent).data) as EventRecord
      if (record.status !== 'RUNNING') delete state.escalations[record.requestId]
      // the log element is reused across re-renders, so lines received so far stay
      render()
    })
    es.addEventListener('end', () => {
      es.close()
      const label = panel.querySelector('h3 .muted')
      if (label) label.textContent = ''
    })
    es.onerror = () => {
      // the emulator went away (restart): stop this stream; the live connection re-selects once it is back
      if (stream !== es) return
      es.close()
      api<{ event: EventRecord }>(`/api/events/${encodeURIComponent(id)}`).then(
        (r) => {
          if (state.selected === id && stream === es) ((record = r.event), render())
        },
        (err) => state.selected === id && (err as { code?: string }).code !== 'NetworkError' && showError('Could not load the event', err),
      )
    }
  }

  renderEmpty()
  return { panel, select, refresh: () => record && render() }
}
