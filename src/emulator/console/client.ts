/**
 * The console page's script. It runs in the browser: the page embeds `consoleApp.toString()`, so this function must
 * be self-contained (no imports, no outer variables). Written in TypeScript for the type checker; the build strips the
 * types. Everything user-controlled is put in the page through textContent, never as HTML. It is one long function
 * on purpose: splitting it into modules would need a bundler step for the browser, which the console avoids.
 */
export function consoleApp(): void {
  type Fn = { name: string; namespace: string; mode: string; timeoutMs: number; qualifier: string }
  type Row = {
    InvokeRequestId: string
    InvokeType: string
    Qualifier: string
    Status: string
    StartTime: string
    EndTime: string
    StatusCode?: number
    StartMs?: number
    EndMs?: number | null
  }
  type Rec = {
    requestId: string
    functionName: string
    namespace: string
    qualifier: string
    invokeType: string
    status: string
    statusCode: number
    startTime: number
    endTime: number | null
    retMsg: string | null
    errMsg: string | null
  }
  type LogLine = { time: number; stream: string; line: string }
  type Attrs = Record<string, string | boolean | number | ((ev: Event) => void) | undefined>
  type Child = Node | string | null | undefined | false

  const STATUSES = ['RUNNING', 'FINISHED', 'FAILED', 'ABORTED']
  const INVOKE_TYPES = ['OTHERS', 'TIMER', 'COS', 'CMQ', 'CKAFKA', 'APIGW', 'CLS', 'MPS', 'TDMQ', 'EB', 'MQTT']
  const CODE_MEANING: Record<number, string> = {
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
  const token = new URLSearchParams(location.search).get('token') ?? ''
  const base = location.pathname.replace(/\/(index\.html)?$/, '')

  // ---------- tiny DOM helpers ----------
  const $ = <T extends HTMLElement>(sel: string): T => document.querySelector(sel) as T
  function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
    const el = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === false) continue
      if (typeof v === 'function') el.addEventListener(k.slice(2), v)
      else if (k === 'class') el.className = String(v)
      else if (k === 'text') el.textContent = String(v)
      else el.setAttribute(k, v === true ? '' : String(v))
    }
    for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c)
    return el
  }
  const clear = (el: HTMLElement) => {
    while (el.firstChild) el.firstChild.remove()
  }

  // ---------- formatting ----------
  function fmtDuration(ms: number): string {
    if (!Number.isFinite(ms) || ms < 0) return '–'
    if (ms < 1000) return `${Math.round(ms)} ms`
    if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`
    const s = Math.floor(ms / 1000)
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
  }
  function fmtAgo(ms: number): string {
    const d = Date.now() - ms
    if (d < 5000) return 'just now'
    if (d < 60_000) return `${Math.floor(d / 1000)}s ago`
    if (d < 3_600_000) return `${Math.floor(d / 60_000)}m ago`
    if (d < 86_400_000) return `${Math.floor(d / 3_600_000)}h ago`
    return new Date(ms).toLocaleDateString()
  }
  const fmtAbs = (ms: number) => new Date(ms).toLocaleString()
  const fmtClock = (ms: number) => {
    const d = new Date(ms)
    return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`
  }
  /** API time `YYYY-MM-DD HH:MM:SS.ffffff` (UTC+8) to ms, when the row lacks StartMs/EndMs. */
  function apiMs(t: string | undefined): number | undefined {
    const m = t ? /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})/.exec(t) : null
    if (!m) return undefined
    return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) - 480 * 60_000
  }
  function pill(status: string): HTMLElement {
    return h('span', { class: `pill pill-${status.toLowerCase()}`, 'data-testid': 'status' }, status === 'RUNNING' ? h('span', { class: 'dot' }) : null, status)
  }
  /** A span whose text the ticker keeps current: a relative time, or a running duration. */
  function ago(ms: number): HTMLElement {
    return h('span', { class: 'ago', 'data-ago': ms, title: fmtAbs(ms), text: fmtAgo(ms) })
  }
  function runningFor(start: number): HTMLElement {
    return h('span', { class: 'running-for', 'data-since': start, text: fmtDuration(Date.now() - start) })
  }

  // ---------- API ----------
  type ApiError = Error & { code?: string }
  async function api<T>(path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { headers: { 'X-Console-Token': token } }
    if (body !== undefined) {
      init.method = 'POST'
      init.headers = { 'X-Console-Token': token, 'Content-Type': 'application/json' }
      init.body = JSON.stringify(body)
    }
    let res: Response
    try {
      res = await fetch(base + path, init)
    } catch {
      throw Object.assign(new Error('The emulator does not answer (is scf-graceful local still running?)'), { code: 'NetworkError' })
    }
    const data = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } }
    if (!res.ok) throw Object.assign(new Error(data.error?.message ?? `${res.status} ${res.statusText}`), { code: data.error?.code ?? String(res.status) }) as ApiError
    return data as T
  }

  // ---------- toasts ----------
  function toast(kind: 'error' | 'info' | 'ok', title: string, detail?: string): void {
    const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': `toast-${kind}` }, h('strong', { text: title }), detail ? h('div', { class: 'toast-detail', text: detail }) : null)
    const close = h('button', { class: 'toast-close', 'aria-label': 'Dismiss', text: '×', onclick: () => el.remove() })
    el.prepend(close)
    $('#toasts').append(el)
    setTimeout(() => el.remove(), kind === 'error' ? 10_000 : 5000)
  }
  const showError = (what: string, err: unknown) => {
    const e = err as ApiError
    toast('error', what, `${e.code ? `${e.code}: ` : ''}${e.message}`)
  }

  // ---------- state ----------
  const state = {
    functions: [] as Fn[],
    fnKey: '',
    statuses: new Set<string>(),
    offset: 0,
    limit: 20,
    total: 0,
    events: [] as Row[],
    selected: undefined as string | undefined,
    loading: false,
    loadedOnce: false,
  }
  const fnOf = (key: string): Fn | undefined => state.functions.find((f) => `${f.namespace}/${f.name}` === key)

  // ---------- layout ----------
  const app = $('#app')
  const live = h('span', { class: 'live live-off', 'data-testid': 'live', text: 'connecting…' })
  const header = h(
    'header',
    { class: 'top' },
    h('div', { class: 'brand' }, h('span', { class: 'logo', text: 'λ' }), h('div', {}, h('h1', { text: 'SCF local console' }), h('div', { class: 'sub', text: 'async events on the scf-graceful emulator' }))),
    live,
  )

  // invoke form
  const invFn = h('select', { id: 'invoke-function', 'data-testid': 'invoke-function' }) as HTMLSelectElement
  const invPayload = h('textarea', { id: 'invoke-payload', 'data-testid': 'invoke-payload', rows: 4, spellcheck: 'false', placeholder: '{ "key": "value" }' }) as HTMLTextAreaElement
  invPayload.value = '{}'
  const payloadHint = h('div', { class: 'hint', id: 'payload-hint', text: 'JSON · async events up to 128 KB · Ctrl+Enter to invoke' })
  const typeEvent = h('input', { type: 'radio', name: 'invoke-type', value: 'Event', checked: true, id: 'type-event', 'data-testid': 'type-event' }) as HTMLInputElement
  const typeSync = h('input', { type: 'radio', name: 'invoke-type', value: 'RequestResponse', id: 'type-sync', 'data-testid': 'type-sync' }) as HTMLInputElement
  const invButton = h('button', { class: 'btn btn-primary', type: 'submit', 'data-testid': 'invoke-button', text: 'Invoke' }) as HTMLButtonElement
  const invResult = h('div', { class: 'invoke-result', 'data-testid': 'invoke-result', 'aria-live': 'polite' })
  const invokeCard = h(
    'section',
    { class: 'card invoke' },
    h('h2', { text: 'Invoke' }),
    h(
      'form',
      { id: 'invoke-form', onsubmit: (ev: Event) => (ev.preventDefault(), void invoke()) },
      h('div', { class: 'field' }, h('label', { for: 'invoke-function', text: 'Function' }), invFn),
      h(
        'fieldset',
        { class: 'field' },
        h('legend', { text: 'Invocation type' }),
        h('label', { class: 'radio', title: 'Returns at once with the event id; the event runs in the background' }, typeEvent, ' Event (async)'),
        h('label', { class: 'radio', title: 'Waits for the result' }, typeSync, ' RequestResponse (sync)'),
      ),
      h('div', { class: 'field grow' }, h('label', { for: 'invoke-payload', text: 'Payload' }), invPayload, payloadHint),
      h('div', { class: 'actions' }, invButton),
    ),
    invResult,
  )

  // filters
  const fFn = h('select', { id: 'filter-function', 'data-testid': 'filter-function', 'aria-label': 'Function' }) as HTMLSelectElement
  const statusChips = h('div', { class: 'chips', role: 'group', 'aria-label': 'Status' })
  for (const s of STATUSES) {
    statusChips.append(
      h('button', {
        type: 'button',
        class: `chip chip-${s.toLowerCase()}`,
        'data-status': s,
        'aria-pressed': 'false',
        text: s,
        onclick: (ev: Event) => {
          const b = ev.currentTarget as HTMLElement
          if (state.statuses.has(s)) state.statuses.delete(s)
          else state.statuses.add(s)
          b.setAttribute('aria-pressed', String(state.statuses.has(s)))
          state.offset = 0
          void load()
        },
      }),
    )
  }
  const dt = (id: string, label: string) => h('label', { class: 'mini' }, label, h('input', { type: 'datetime-local', id, step: 1, onchange: () => ((state.offset = 0), void load()) }))
  const fRequest = h('input', { type: 'search', id: 'filter-request', placeholder: 'Request ID', 'aria-label': 'Request ID', onchange: () => ((state.offset = 0), void load()) }) as HTMLInputElement
  const fOrder = h('select', { id: 'filter-order', 'aria-label': 'Order', onchange: () => ((state.offset = 0), void load()) }, h('option', { value: 'DESC', text: 'Newest first' }), h('option', { value: 'ASC', text: 'Oldest first' })) as HTMLSelectElement
  const fOrderBy = h('select', { id: 'filter-orderby', 'aria-label': 'Sort by', onchange: () => ((state.offset = 0), void load()) }, h('option', { value: 'StartTime', text: 'by start time' }), h('option', { value: 'EndTime', text: 'by end time' })) as HTMLSelectElement
  const fLimit = h(
    'select',
    { id: 'filter-limit', 'aria-label': 'Page size', onchange: (ev: Event) => ((state.limit = Number((ev.target as HTMLSelectElement).value)), (state.offset = 0), void load()) },
    ...[20, 50, 100].map((n) => h('option', { value: n, text: `${n} per page` })),
  ) as HTMLSelectElement
  const fType = h('select', { id: 'filter-invoke-type', 'aria-label': 'Invoke type', onchange: () => ((state.offset = 0), void load()) }, h('option', { value: '', text: 'any trigger' }), ...INVOKE_TYPES.map((t) => h('option', { value: t, text: t }))) as HTMLSelectElement
  const fQualifier = h('input', { type: 'text', id: 'filter-qualifier', placeholder: 'Qualifier', 'aria-label': 'Qualifier', size: 10, onchange: () => ((state.offset = 0), void load()) }) as HTMLInputElement
  const moreFilters = h(
    'details',
    { class: 'more' },
    h('summary', { text: 'More filters' }),
    h('div', { class: 'more-grid' }, dt('filter-start-from', 'Started from'), dt('filter-start-before', 'Started before'), dt('filter-end-from', 'Ended from'), dt('filter-end-before', 'Ended before'), h('label', { class: 'mini' }, 'Trigger', fType), h('label', { class: 'mini' }, 'Qualifier', fQualifier)),
  )
  const resetBtn = h('button', { type: 'button', class: 'btn btn-ghost', text: 'Clear filters', onclick: () => resetFilters() })
  const refreshBtn = h('button', { type: 'button', class: 'btn btn-ghost', title: 'Reload the list', text: '↻ Refresh', onclick: () => void load() })
  const filters = h('div', { class: 'filters' }, h('label', { class: 'mini' }, 'Function', fFn), h('div', { class: 'mini' }, 'Status', statusChips), fRequest, fOrder, fOrderBy, fLimit, h('span', { class: 'spacer' }), resetBtn, refreshBtn)

  const tbody = h('tbody', { 'data-testid': 'events-body' })
  const tableEl = h(
    'table',
    { class: 'events', 'data-testid': 'events-table' },
    h('thead', {}, h('tr', {}, ...['Request ID', 'Status', 'Started', 'Duration', 'Trigger', 'Qualifier', ''].map((t) => h('th', { text: t })))),
    tbody,
  )
  const empty = h('div', { class: 'empty', 'data-testid': 'empty', hidden: true })
  const pager = h('div', { class: 'pager' })
  const listError = h('div', { class: 'banner banner-error', 'data-testid': 'list-error', hidden: true })
  const eventsCard = h('section', { class: 'card events-card' }, h('div', { class: 'card-head' }, h('h2', { text: 'Async events' }), h('span', { class: 'count', 'data-testid': 'count' })), filters, moreFilters, listError, h('div', { class: 'table-wrap' }, tableEl, empty), pager)

  const details = h('aside', { class: 'card details', 'data-testid': 'details' })
  const dialog = h('dialog', { id: 'confirm', 'data-testid': 'confirm' }) as HTMLDialogElement
  app.append(header, h('main', { class: 'grid' }, h('div', { class: 'col' }, invokeCard, eventsCard), details), dialog, h('div', { id: 'toasts', class: 'toasts' }))

  // ---------- functions ----------
  function fillFunctionSelects(): void {
    for (const sel of [invFn, fFn]) {
      clear(sel)
      for (const f of state.functions) sel.append(h('option', { value: `${f.namespace}/${f.name}`, text: f.namespace === 'default' ? f.name : `${f.namespace}/${f.name}`, title: `${f.mode} · timeout ${fmtDuration(f.timeoutMs)} · ${f.qualifier}` }))
      sel.value = state.fnKey
    }
  }
  fFn.addEventListener('change', () => {
    state.fnKey = fFn.value
    invFn.value = fFn.value
    state.offset = 0
    void load()
  })

  function resetFilters(): void {
    state.statuses.clear()
    for (const b of Array.from(statusChips.querySelectorAll('button'))) b.setAttribute('aria-pressed', 'false')
    for (const el of Array.from(document.querySelectorAll<HTMLInputElement>('.filters input, .more input'))) el.value = ''
    fOrder.value = 'DESC'
    fOrderBy.value = 'StartTime'
    fType.value = ''
    state.offset = 0
    void load()
  }
  function filtersActive(): boolean {
    return state.statuses.size > 0 || Boolean(fRequest.value || fType.value || fQualifier.value) || Array.from(document.querySelectorAll<HTMLInputElement>('.more input[type=datetime-local]')).some((i) => i.value)
  }

  // ---------- the list ----------
  let loadSeq = 0
  async function load(): Promise<void> {
    const fn = fnOf(state.fnKey)
    if (!fn) return render()
    const q = new URLSearchParams({ function: fn.name, namespace: fn.namespace, offset: String(state.offset), limit: String(state.limit), order: fOrder.value, orderby: fOrderBy.value })
    for (const s of state.statuses) q.append('status', s)
    if (fRequest.value.trim()) q.set('requestId', fRequest.value.trim())
    if (fType.value) q.append('invokeType', fType.value)
    if (fQualifier.value.trim()) q.set('qualifier', fQualifier.value.trim())
    for (const [id, name] of [['filter-start-from', 'startFrom'], ['filter-start-before', 'startBefore'], ['filter-end-from', 'endFrom'], ['filter-end-before', 'endBefore']] as const) {
      const v = (document.getElementById(id) as HTMLInputElement).value
      if (v) q.set(name, String(new Date(v).getTime()))
    }
    const seq = ++loadSeq
    state.loading = true
    eventsCard.classList.add('loading')
    try {
      const page = await api<{ TotalCount: number; EventList: Row[] }>(`/api/events?${q}`)
      if (seq !== loadSeq) return
      state.events = page.EventList
      state.total = page.TotalCount
      state.loadedOnce = true
      listError.hidden = true
    } catch (err) {
      if (seq !== loadSeq) return
      const e = err as ApiError
      listError.textContent = `Could not list events: ${e.code ? `${e.code}: ` : ''}${e.message}`
      listError.hidden = false
    } finally {
      if (seq === loadSeq) {
        state.loading = false
        eventsCard.classList.remove('loading')
      }
    }
    render()
  }
  let reloadTimer: ReturnType<typeof setTimeout> | undefined
  const scheduleReload = () => {
    clearTimeout(reloadTimer)
    reloadTimer = setTimeout(() => void load(), 250)
  }

  function rowFor(e: Row): HTMLElement {
    const start = e.StartMs ?? apiMs(e.StartTime)
    const end = e.EndMs ?? apiMs(e.EndTime)
    const running = e.Status === 'RUNNING'
    const actions = h('div', { class: 'row-actions' })
    if (running) {
      actions.append(
        h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'terminate-grace', title: 'SIGTERM: let the function stop cleanly', text: 'Terminate', onclick: (ev: Event) => (ev.stopPropagation(), confirmTerminate(e.InvokeRequestId, true)) }),
        h('button', { type: 'button', class: 'btn btn-small btn-danger-ghost', 'data-testid': 'terminate-force', title: 'Kill the instance at once', text: 'Force', onclick: (ev: Event) => (ev.stopPropagation(), confirmTerminate(e.InvokeRequestId, false)) }),
      )
    }
    const tr = h(
      'tr',
      { 'data-id': e.InvokeRequestId, 'data-status': e.Status, class: e.InvokeRequestId === state.selected ? 'selected' : '', tabindex: 0, onclick: () => select(e.InvokeRequestId), onkeydown: (ev: Event) => (ev as KeyboardEvent).key === 'Enter' && select(e.InvokeRequestId) },
      h('td', { class: 'mono id', title: e.InvokeRequestId, text: e.InvokeRequestId }),
      h('td', {}, pill(e.Status), e.StatusCode !== undefined && !running ? h('span', { class: 'code', title: CODE_MEANING[e.StatusCode] ?? '', text: String(e.StatusCode) }) : null),
      h('td', {}, start === undefined ? '–' : ago(start)),
      h('td', {}, start === undefined ? '–' : running ? runningFor(start) : end === undefined || end === null ? '–' : fmtDuration(end - start)),
      h('td', { class: 'muted', text: e.InvokeType }),
      h('td', { class: 'muted mono', text: e.Qualifier }),
      h('td', {}, actions),
    )
    return tr
  }

  function render(): void {
    const fn = fnOf(state.fnKey)
    clear(tbody)
    for (const e of state.events) tbody.append(rowFor(e))
    const none = state.events.length === 0
    tableEl.hidden = none
    empty.hidden = !none || !state.loadedOnce
    clear(empty)
    if (!fn) {
      empty.hidden = false
      empty.append(h('strong', { text: 'This emulator serves no functions.' }), h('p', { text: 'Start it with --function NAME=ENTRY, e.g. scf-graceful local --function hello=./index.js' }))
    } else if (none && state.total > 0) {
      empty.append(h('strong', { text: 'Nothing on this page.' }), h('button', { class: 'btn btn-ghost', text: 'Back to the first page', onclick: () => ((state.offset = 0), void load()) }))
    } else if (none && filtersActive()) {
      empty.append(h('strong', { text: 'No events match these filters.' }), h('button', { class: 'btn btn-ghost', text: 'Clear filters', onclick: () => resetFilters() }))
    } else if (none) {
      empty.append(h('strong', { text: `No async events for ${fn.name} yet.` }), h('p', { text: 'Invoke it above as an Event: it shows up here as RUNNING, and changes live.' }))
    }
    $('[data-testid=count]').textContent = fn ? `${state.total} total` : ''
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

  // ---------- details and logs ----------
  let logStream: EventSource | undefined
  let detailRecord: Rec | undefined
  const logPre = h('div', { class: 'logs', 'data-testid': 'logs', role: 'log', 'aria-live': 'polite' })
  let logCount = 0

  function renderDetailsEmpty(): void {
    clear(details)
    details.append(h('div', { class: 'empty details-empty' }, h('strong', { text: 'No event selected' }), h('p', { text: 'Click an event in the list to see its status, result and log.' })))
  }

  function renderDetails(): void {
    const r = detailRecord
    if (!r) return renderDetailsEmpty()
    clear(details)
    const running = r.status === 'RUNNING'
    const meaning = CODE_MEANING[r.statusCode]
    const dl = h(
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
    )
    const copy = h('button', {
      type: 'button',
      class: 'btn btn-small btn-ghost',
      text: 'Copy ID',
      onclick: () => void navigator.clipboard?.writeText(r.requestId).then(() => toast('ok', 'Copied the request id'), () => toast('error', 'Could not copy', 'The browser refused clipboard access.')),
    })
    details.append(
      h('div', { class: 'card-head' }, h('h2', { text: 'Event' }), h('div', { class: 'head-actions' }, copy, h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': 'Close', text: '✕', onclick: () => select(undefined) }))),
      h('div', { class: 'mono big-id', 'data-testid': 'details-id', text: r.requestId }),
      h('div', { class: 'details-status', 'data-testid': 'details-status' }, pill(r.status)),
      dl,
    )
    if (running) {
      details.append(
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', class: 'btn btn-warn', 'data-testid': 'details-terminate-grace', text: 'Terminate (graceful)', onclick: () => confirmTerminate(r.requestId, true) }),
          h('button', { type: 'button', class: 'btn btn-danger', 'data-testid': 'details-terminate-force', text: 'Terminate (force)', onclick: () => confirmTerminate(r.requestId, false) }),
        ),
      )
    }
    if (r.retMsg !== null && r.retMsg !== undefined) details.append(h('h3', { text: 'Result' }), h('pre', { class: 'result', text: pretty(r.retMsg) }))
    if (r.errMsg) details.append(h('h3', { text: 'Error' }), h('pre', { class: 'result result-error', text: r.errMsg }))
    details.append(h('h3', {}, 'Log ', h('span', { class: 'muted small', text: running ? '(live)' : '' })), logPre)
  }
  const pretty = (s: string) => {
    try {
      return JSON.stringify(JSON.parse(s), null, 2)
    } catch {
      return s
    }
  }

  function appendLog(l: LogLine): void {
    if (logCount === 0) clear(logPre)
    logCount++
    const platform = l.line.startsWith('[PLATFORM]')
    const cls = platform ? 'l-platform-signal' : l.stream === 'platform' ? 'l-platform' : l.stream === 'stderr' ? 'l-stderr' : 'l-stdout'
    const stick = logPre.scrollTop + logPre.clientHeight >= logPre.scrollHeight - 8
    logPre.append(h('div', { class: `l ${cls}` }, h('span', { class: 'l-time', text: fmtClock(l.time) }), h('span', { class: 'l-stream', text: l.stream }), h('span', { class: 'l-text', text: l.line })))
    if (stick) logPre.scrollTop = logPre.scrollHeight
  }

  function select(id: string | undefined): void {
    state.selected = id
    for (const tr of Array.from(tbody.querySelectorAll('tr'))) tr.classList.toggle('selected', tr.getAttribute('data-id') === id)
    logStream?.close()
    logStream = undefined
    detailRecord = undefined
    if (!id) return renderDetailsEmpty()
    clear(details)
    details.append(h('div', { class: 'empty details-empty', text: 'Loading…' }))
    clear(logPre)
    logCount = 0
    logPre.append(h('div', { class: 'muted', text: 'No log lines yet.' }))
    // the per-event stream replays the log so far, then the live lines, then closes when the event ends
    const es = new EventSource(`${base}/api/stream?requestId=${encodeURIComponent(id)}&token=${encodeURIComponent(token)}`)
    logStream = es
    es.addEventListener('log', (ev) => appendLog(JSON.parse((ev as MessageEvent).data) as LogLine))
    es.addEventListener('event', (ev) => {
      const rec = JSON.parse((ev as MessageEvent).data) as Rec
      detailRecord = rec
      // the log element is reused across re-renders, so lines received so far stay
      renderDetails()
    })
    es.addEventListener('end', () => {
      es.close()
      const label = details.querySelector('h3 .muted')
      if (label) label.textContent = ''
    })
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED && logStream === es) {
        api<{ event: Rec }>(`/api/events/${encodeURIComponent(id)}`).then(
          (r) => {
            if (state.selected === id) ((detailRecord = r.event), renderDetails())
          },
          (err) => state.selected === id && showError('Could not load the event', err),
        )
      }
    }
  }

  // ---------- terminate ----------
  function confirmTerminate(requestId: string, grace: boolean): void {
    const fn = fnOf(state.fnKey)
    clear(dialog)
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { text: grace ? 'Terminate gracefully?' : 'Terminate by force?' }),
      h('p', { class: 'mono small', text: requestId }),
      h(
        'p',
        {
          text: grace
            ? 'Sends SIGTERM to the instance running this event (TerminateAsyncEvent, GraceShutdown=true). A function using scf-graceful stops its work, saves /tmp, and the event ends ABORTED. A function without a handler exits (status 439).'
            : 'Kills the instance at once (TerminateAsyncEvent, GraceShutdown=false). The function gets no chance to react and its /tmp is wiped. The event ends ABORTED with status 499.',
        },
      ),
      h(
        'div',
        { class: 'actions right' },
        h('button', { class: 'btn btn-ghost', value: 'cancel', 'data-testid': 'confirm-cancel', text: 'Cancel' }),
        h('button', { class: `btn ${grace ? 'btn-warn' : 'btn-danger'}`, value: 'ok', 'data-testid': 'confirm-ok', text: grace ? 'Send SIGTERM' : 'Kill it' }),
      ),
    )
    dialog.append(form)
    dialog.onclose = () => {
      if (dialog.returnValue !== 'ok') return
      const f = fn ?? state.functions[0]
      api<{ ok: boolean }>('/api/terminate', { functionName: detailRecord?.requestId === requestId ? detailRecord.functionName : f?.name, namespace: detailRecord?.requestId === requestId ? detailRecord.namespace : f?.namespace, requestId, grace }).then(
        () => {
          toast('info', grace ? 'SIGTERM sent' : 'Terminated by force', grace ? 'Waiting for the function to stop…' : requestId)
          scheduleReload()
        },
        (err) => showError('Terminate failed', err),
      )
    }
    dialog.returnValue = ''
    dialog.showModal()
    ;(dialog.querySelector('[data-testid=confirm-cancel]') as HTMLElement).focus()
  }

  // ---------- invoke ----------
  function payloadValid(): boolean {
    try {
      JSON.parse(invPayload.value || '{}')
      invPayload.classList.remove('invalid')
      payloadHint.textContent = 'JSON · async events up to 128 KB · Ctrl+Enter to invoke'
      payloadHint.classList.remove('hint-error')
      return true
    } catch (err) {
      invPayload.classList.add('invalid')
      payloadHint.textContent = `Not valid JSON: ${(err as Error).message}`
      payloadHint.classList.add('hint-error')
      return false
    }
  }
  invPayload.addEventListener('input', payloadValid)
  invPayload.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault()
      void invoke()
    }
  })

  async function invoke(): Promise<void> {
    const fn = fnOf(invFn.value)
    if (!fn || !payloadValid()) return
    const sync = typeSync.checked
    invButton.disabled = true
    invButton.textContent = sync ? 'Running…' : 'Invoking…'
    clear(invResult)
    try {
      const res = await api<{ Result: { FunctionRequestId: string; RetMsg: string; ErrMsg: string; Log: string; Duration: number; InvokeResult: number } }>('/api/invoke', {
        functionName: fn.name,
        namespace: fn.namespace,
        invocationType: sync ? 'RequestResponse' : 'Event',
        payload: invPayload.value || '{}',
      })
      const r = res.Result
      if (!sync) {
        invResult.append(h('div', { class: 'banner banner-ok' }, 'Started event ', h('button', { type: 'button', class: 'link mono', text: r.FunctionRequestId, onclick: () => select(r.FunctionRequestId) })))
        if (state.fnKey !== invFn.value) {
          state.fnKey = invFn.value
          fFn.value = invFn.value
        }
        state.offset = 0
        await load()
        select(r.FunctionRequestId)
      } else {
        const ok = r.InvokeResult === 0 && !r.ErrMsg
        invResult.append(
          h(
            'div',
            { class: `banner ${ok ? 'banner-ok' : 'banner-error'}` },
            h('strong', { text: ok ? 'Returned' : 'Failed' }),
            ` in ${fmtDuration(r.Duration)} · `,
            h('span', { class: 'mono', text: r.FunctionRequestId }),
          ),
          h('pre', { class: `result${ok ? '' : ' result-error'}`, text: ok ? pretty(r.RetMsg) : pretty(r.ErrMsg) }),
        )
        if (r.Log) invResult.append(h('details', {}, h('summary', { text: 'Log (last 4 KB)' }), h('pre', { class: 'result', text: r.Log })))
      }
    } catch (err) {
      const e = err as ApiError
      invResult.append(h('div', { class: 'banner banner-error' }, h('strong', { text: 'Invoke failed: ' }), `${e.code ? `${e.code}: ` : ''}${e.message}`))
    } finally {
      invButton.disabled = false
      invButton.textContent = 'Invoke'
    }
  }

  // ---------- live updates ----------
  function connect(): void {
    const es = new EventSource(`${base}/api/stream?token=${encodeURIComponent(token)}`)
    es.onopen = () => {
      live.className = 'live live-on'
      live.textContent = 'live'
      live.title = 'Receiving live updates'
    }
    es.onerror = () => {
      live.className = 'live live-off'
      live.textContent = 'reconnecting…'
      live.title = 'The live connection dropped; retrying'
    }
    es.addEventListener('event', (ev) => {
      const rec = JSON.parse((ev as MessageEvent).data) as Rec
      const fn = fnOf(state.fnKey)
      if (!fn || fn.name !== rec.functionName || fn.namespace !== rec.namespace) return
      const row = state.events.find((e) => e.InvokeRequestId === rec.requestId)
      if (row) {
        // show the change at once; the reload that follows re-applies filters and paging
        Object.assign(row, { Status: rec.status, StatusCode: rec.statusCode, EndMs: rec.endTime })
        const tr = tbody.querySelector(`tr[data-id="${CSS.escape(rec.requestId)}"]`)
        if (tr) {
          const fresh = rowFor(row)
          fresh.classList.add('flash')
          tr.replaceWith(fresh)
        }
      }
      scheduleReload()
    })
  }

  // ---------- ticking times ----------
  setInterval(() => {
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-ago]'))) el.textContent = fmtAgo(Number(el.dataset.ago))
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-since]'))) el.textContent = fmtDuration(Date.now() - Number(el.dataset.since))
  }, 1000)

  // ---------- start ----------
  renderDetailsEmpty()
  api<{ functions: Fn[] }>('/api/functions').then(
    (r) => {
      state.functions = r.functions
      state.fnKey = r.functions[0] ? `${r.functions[0].namespace}/${r.functions[0].name}` : ''
      fillFunctionSelects()
      void load()
      connect()
    },
    (err) => {
      showError('Could not load the functions', err)
      state.loadedOnce = true
      render()
    },
  )
}
