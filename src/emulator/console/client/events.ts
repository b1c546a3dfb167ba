/** The event list: filters (status chips with counts), the table with checkboxes, the bulk bar, paging. */
import { api } from './api.js'
import { clear, h } from './dom.js'
import { apiMs, fmtDuration } from './format.js'
import { app, currentFn, state } from './state.js'
import { confirmTerminate } from './terminate.js'
import { ago, pill, runningFor, showError } from './ui.js'
import { CODE_MEANING, INVOKE_TYPES, STATUSES, type EventListRow, type EventsPage } from '../shared.js'

export interface EventsView {
  card: HTMLElement
  fnSelect: HTMLSelectElement
  load(): Promise<void>
  render(): void
  /** Shows a live change at once, before the reload that follows re-applies filters and paging. */
  patchRow(requestId: string, change: Partial<EventListRow>): void
  markSelected(id: string | undefined): void
}

export function createEventsView(): EventsView {
  const fnSelect = h('select', { id: 'filter-function', 'data-testid': 'filter-function', 'aria-label': 'Function' }) as HTMLSelectElement
  const reload = () => ((state.offset = 0), void load())

  const chips = new Map<string, HTMLElement>()
  const statusChips = h('div', { class: 'chips', role: 'group', 'aria-label': 'Status' })
  for (const s of STATUSES) {
    const count = h('span', { class: 'chip-count', 'data-testid': `count-${s.toLowerCase()}` })
    const chip = h(
      'button',
      {
        type: 'button',
        class: `chip chip-${s.toLowerCase()}`,
        'data-status': s,
        'aria-pressed': 'false',
        onclick: () => {
          if (state.statuses.has(s)) state.statuses.delete(s)
          else state.statuses.add(s)
          chip.setAttribute('aria-pressed', String(state.statuses.has(s)))
          reload()
        },
      },
      s,
      count,
    )
    chips.set(s, count)
    statusChips.append(chip)
  }
  const dt = (id: string, label: string) => h('label', { class: 'mini' }, label, h('input', { type: 'datetime-local', id, step: 1, onchange: reload }))
  const fRequest = h('input', { type: 'search', id: 'filter-request', placeholder: 'Request ID', 'aria-label': 'Request ID', onchange: reload }) as HTMLInputElement
  const fOrder = h('select', { id: 'filter-order', 'aria-label': 'Order', onchange: reload }, h('option', { value: 'DESC', text: 'Newest first' }), h('option', { value: 'ASC', text: 'Oldest first' })) as HTMLSelectElement
  const fOrderBy = h('select', { id: 'filter-orderby', 'aria-label': 'Sort by', onchange: reload }, h('option', { value: 'StartTime', text: 'by start time' }), h('option', { value: 'EndTime', text: 'by end time' })) as HTMLSelectElement
  const fLimit = h(
    'select',
    { id: 'filter-limit', 'aria-label': 'Page size', onchange: (ev: Event) => ((state.limit = Number((ev.target as HTMLSelectElement).value)), reload()) },
    ...[20, 50, 100].map((n) => h('option', { value: n, text: `${n} per page` })),
  ) as HTMLSelectElement
  const fType = h('select', { id: 'filter-invoke-type', 'aria-label': 'Invoke type', onchange: reload }, h('option', { value: '', text: 'any trigger' }), ...INVOKE_TYPES.map((t) => h('option', { value: t, text: t }))) as HTMLSelectElement
  const fQualifier = h('input', { type: 'text', id: 'filter-qualifier', placeholder: 'Qualifier', 'aria-label': 'Qualifier', size: 10, onchange: reload }) as HTMLInputElement
  const dates = [dt('filter-start-from', 'Started from'), dt('filter-start-before', 'Started before'), dt('filter-end-from', 'Ended from'), dt('filter-end-before', 'Ended before')]
  const moreFilters = h('details', { class: 'more' }, h('summary', { text: 'More filters' }), h('div', { class: 'more-grid' }, ...dates, h('label', { class: 'mini' }, 'Trigger', fType), h('label', { class: 'mini' }, 'Qualifier', fQualifier)))
  const filters = h(
    'div',
    { class: 'filters' },
    h('label', { class: 'mini' }, 'Function', fnSelect),
    h('div', { class: 'mini' }, 'Status', statusChips),
    fRequest,
    fOrder,
    fOrderBy,
    fLimit,
    h('span', { class: 'spacer' }),
    h('button', { type: 'button', class: 'btn btn-ghost', text: 'Clear filters', onclick: () => resetFilters() }),
    h('button', { type: 'button', class: 'btn btn-ghost', title: 'Reload the list', text: '↻ Refresh', onclick: () => void load() }),
  )

  // the bulk bar: shown while rows are ticked
  const bulkCount = h('strong', { 'data-testid': 'bulk-count' })
  const bulk = h(
    'div',
    { class: 'bulk', 'data-testid': 'bulk', hidden: true },
    bulkCount,
    h('span', { class: 'spacer' }),
    h('button', { type: 'button', class: 'btn btn-small btn-warn', 'data-testid': 'bulk-grace', text: 'Terminate gracefully…', onclick: () => confirmTerminate([...state.checked], true) }),
    h('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-testid': 'bulk-force', text: 'Terminate by force…', onclick: () => confirmTerminate([...state.checked], false) }),
    h('button', { type: 'button', class: 'btn btn-small btn-ghost', text: 'Clear selection', onclick: () => (state.checked.clear(), render()) }),
  )
  const checkAll = h('input', { type: 'checkbox', 'aria-label': 'Select every RUNNING event on this page', 'data-testid': 'check-all' }) as HTMLInputElement
  checkAll.addEventListener('change', () => {
    for (const e of state.events) if (e.Status === 'RUNNING') (checkAll.checked ? state.checked.add(e.InvokeRequestId) : state.checked.delete(e.InvokeRequestId))
    render()
  })
  const tbody = h('tbody', { 'data-testid': 'events-body' })
  const table = h(
    'table',
    { class: 'events', 'data-testid': 'events-table' },
    h('thead', {}, h('tr', {}, h('th', { class: 'check' }, checkAll), ...['Request ID', 'Status', 'Started', 'Duration', 'Trigger', 'Qualifier', ''].map((t) => h('th', { text: t })))),
    tbody,
  )
  const empty = h('div', { class: 'empty', 'data-testid': 'empty', hidden: true })
  const pager = h('div', { class: 'pager' })
  const listError = h('div', { class: 'banner banner-error', 'data-testid': 'list-error', hidden: true })
  const count = h('span', { class: 'count', 'data-testid': 'count' })
  const card = h('section', { class: 'card events-card' }, h('div', { class: 'card-head' }, h('h2', { text: 'Async events' }), count), filters, moreFilters, bulk, listError, h('div', { class: 'table-wrap' }, table, empty), pager)

  function resetFilters(): void {
    state.statuses.clear()
    for (const b of Array.from(statusChips.querySelectorAll('button'))) b.setAttribute('aria-pressed', 'false')
    for (const el of Array.from(card.querySelectorAll<HTMLInputElement>('.filters input, .more input'))) el.value = ''
    fOrder.value = 'DESC'
    fOrderBy.value = 'StartTime'
    fType.value = ''
    reload()
  }
  const filtersActive = () => state.statuses.size > 0 || Boolean(fRequest.value || fType.value || fQualifier.value) || dates.some((d) => (d.querySelector('input') as HTMLInputElement).value)

  let seq = 0
  async function load(): Promise<void> {
    const fn = currentFn()
    if (!fn) {
      state.loadedOnce = true
      return render()
    }
    const my = ++seq
    const q = new URLSearchParams({ function: fn.name, namespace: fn.namespace, offset: String(state.offset), limit: String(state.limit), order: fOrder.value, orderby: fOrderBy.value })
    for (const s of state.statuses) q.append('status', s)
    if (fRequest.value.trim()) q.set('requestId', fRequest.value.trim())
    if (fType.value) q.append('invokeType', fType.value)
    if (fQualifier.value.trim()) q.set('qualifier', fQualifier.value.trim())
    const ids = ['filter-start-from', 'filter-start-before', 'filter-end-from', 'filter-end-before']
    const names = ['startFrom', 'startBefore', 'endFrom', 'endBefore']
    ids.forEach((id, i) => {
      const v = (card.querySelector(`#${id}`) as HTMLInputElement).value
      if (v) q.set(names[i] as string, String(new Date(v).getTime()))
    })
    card.classList.add('loading')
    try {
      const page = await api<EventsPage>(`/api/events?${q}`)
      if (my !== seq) return // a newer load is on its way
      state.total = page.TotalCount
      state.events = page.EventList
      state.counts = page.Counts ?? {}
      state.escalations = page.Escalations ?? {}
      // ticks only stay on events that can still be terminated
      const running = new Set(page.EventList.filter((e) => e.Status === 'RUNNING').map((e) => e.InvokeRequestId))
      for (const id of [...state.checked]) if (!running.has(id)) state.checked.delete(id)
      listError.hidden = true
    } catch (err) {
      if (my !== seq) return
      listError.hidden = false
      listError.textContent = `Could not load events: ${(err as Error).message}`
      if ((err as { code?: string }).code !== 'NetworkError') showError('Could not load events', err)
    } finally {
      if (my === seq) {
        card.classList.remove('loading')
        state.loadedOnce = true
        render()
      }
    }
  }

  function rowFor(e: EventListRow): HTMLElement {
    const running = e.Status === 'RUNNING'
    const start = e.StartMs ?? apiMs(e.StartTime)
    const end = e.EndMs ?? apiMs(e.EndTime)
    const check = h('input', { type: 'checkbox', 'data-testid': 'row-check', 'aria-label': `Select ${e.InvokeRequestId}`, disabled: !running, checked: state.checked.has(e.InvokeRequestId) }) as HTMLInputElement
    check.addEventListener('click', (ev) => ev.stopPropagation())
    check.addEventListener('change', () => {
      if (check.checked) state.checked.add(e.InvokeRequestId)
      else state.checked.delete(e.InvokeRequestId)
      renderBulk()
    })
    const actions = h('div', { class: 'row-actions' })
    if (running) {
      const esc = state.escalations[e.InvokeRequestId]
      if (esc) actions.append(h('span', { class: 'escalating', title: 'SIGTERM sent; force follows if it is still running', text: 'force soon' }))
      actions.append(
        h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'data-testid': 'terminate-grace', title: 'Send SIGTERM (GraceShutdown=true), force later if needed', text: 'SIGTERM', onclick: (ev: Event) => (ev.stopPropagation(), confirmTerminate([e.InvokeRequestId], true)) }),
        h('button', { type: 'button', class: 'btn btn-small btn-danger-ghost', 'data-testid': 'terminate-force', title: 'Kill the instance (GraceShutdown=false)', text: 'Kill', onclick: (ev: Event) => (ev.stopPropagation(), confirmTerminate([e.InvokeRequestId], false)) }),
      )
    }
    return h(
      'tr',
      { 'data-id': e.InvokeRequestId, class: state.selected === e.InvokeRequestId ? 'selected' : '', onclick: () => app.select(e.InvokeRequestId) },
      h('td', { class: 'check' }, check),
      h('td', { class: 'mono id', title: e.InvokeRequestId, text: e.InvokeRequestId }),
      h('td', {}, pill(e.Status), e.StatusCode !== undefined && !running ? h('span', { class: 'code', title: CODE_MEANING[e.StatusCode] ?? '', text: String(e.StatusCode) }) : null),
      h('td', {}, start === undefined ? '–' : ago(start)),
      h('td', {}, start === undefined ? '–' : running ? runningFor(start) : end === undefined || end === null ? '–' : fmtDuration(end - start)),
      h('td', { class: 'muted', text: e.InvokeType }),
      h('td', { class: 'muted mono', text: e.Qualifier }),
      h('td', {}, actions),
    )
  }

  function renderBulk(): void {
    bulk.hidden = state.checked.size === 0
    bulkCount.textContent = `${state.checked.size} selected`
    const runningOnPage = state.events.filter((e) => e.Status === 'RUNNING')
    checkAll.checked = runningOnPage.length > 0 && runningOnPage.every((e) => state.checked.has(e.InvokeRequestId))
    checkAll.disabled = runningOnPage.length === 0
  }

  function render(): void {
    const fn = currentFn()
    clear(tbody)
    for (const e of state.events) tbody.append(rowFor(e))
    for (const [s, el] of chips) el.textContent = fn ? String(state.counts[s] ?? 0) : ''
    renderBulk()
    const none = state.events.length === 0
    table.hidden = none
    empty.hidden = !none || !state.loadedOnce
    clear(empty)
    if (!fn) {
      empty.hidden = false
      empty.append(h('strong', { text: 'This emulator serves no functions.' }), h('p', { text: 'Start it with --function NAME=ENTRY, e.g. scf-graceful local --function hello=./index.js' }))
    } else if (none && state.total > 0) {
      empty.append(h('strong', { text: 'Nothing on this page.' }), h('button', { class: 'btn btn-ghost', text: 'Back to the first page', onclick: reload }))
    } else if (none && filtersActive()) {
      empty.append(h('strong', { text: 'No events match these filters.' }), h('button', { class: 'btn btn-ghost', text: 'Clear filters', onclick: () => resetFilters() }))
    } else if (none) {
      empty.append(h('strong', { text: `No async events for ${fn.name} yet.` }), h('p', { text: 'Invoke it above as an Event: it shows up here as RUNNING, and changes live.' }))
    }
    count.textContent = fn ? `${state.total} total` : ''
    clear(pager)
    if (state.total > 0) {
      const from = Math.min(state.total, state.offset + 1)
      const to = Math.min(state.total, state.offset + state.events.length)
      pager.append(
        h('span', { class: 'muted', 'data-testid': 'page-info', text: `${from}–${to} of ${state.total}` }),
        h('button', { type: 'button', class: 'btn btn-ghost', text: '‹ Previous', disabled: state.offset === 0, onclick: () => ((state.offset = Math.max(0, state.offset - state.limit)), void load()) }),
        h('button', { type: 'button', class: 'btn btn-ghost', text: 'Next ›', disabled: state.offset + state.limit >= state.total, onclick: () => ((state.offset += state.limit), void load()) }),
      )
    }
  }

  return {
    card,
    fnSelect,
    load,
    render,
    patchRow(requestId, change) {
      const row = state.events.find((e) => e.InvokeRequestId === requestId)
      if (!row) return
      Object.assign(row, change)
      const tr = tbody.querySelector(`tr[data-id="${CSS.escape(requestId)}"]`)
      if (tr) {
        const fresh = rowFor(row)
        fresh.classList.add('flash')
        tr.replaceWith(fresh)
      }
    },
    markSelected(id) {
      for (const tr of Array.from(tbody.querySelectorAll('tr'))) tr.classList.toggle('selected', tr.getAttribute('data-id') === id)
    },
  }
}
