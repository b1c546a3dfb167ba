/**
 * The console page's script, bundled for the browser at build time (see ../build-client.ts). It lays out the page,
 * wires the parts together and loads the functions.
 */
import { api } from './api.js'
import { $, clear, h } from './dom.js'
import { createDetailsView } from './details.js'
import { createEventsView } from './events.js'
import { fmtDuration } from './format.js'
import { createInvokeView } from './invoke.js'
import { connectLive, createLiveIndicator } from './live.js'
import { app, currentFn, state } from './state.js'
import { createTimelineView } from './timeline.js'
import { showError, startTicker } from './ui.js'
import type { FunctionSummary } from '../shared.js'

const live = createLiveIndicator()
const header = h(
  'header',
  { class: 'top' },
  h('div', { class: 'brand' }, h('span', { class: 'logo', text: 'λ' }), h('div', {}, h('h1', { text: 'SCF local console' }), h('div', { class: 'sub', text: 'async events on the scf-graceful emulator' }))),
  live,
)

const chooseFunction = (key: string) => {
  state.fnKey = key
  events.fnSelect.value = key
  invoke.fnSelect.value = key
  state.offset = 0
  state.checked.clear()
}
const invoke = createInvokeView(chooseFunction)
const events = createEventsView()
const timeline = createTimelineView()
const details = createDetailsView(() => app.select(undefined))

events.fnSelect.addEventListener('change', () => {
  chooseFunction(events.fnSelect.value)
  void app.load()
})

app.load = async () => {
  await Promise.all([events.load(), timeline.load()])
}
let reloadTimer: ReturnType<typeof setTimeout> | undefined
app.reloadSoon = () => {
  if (reloadTimer) return
  reloadTimer = setTimeout(() => {
    reloadTimer = undefined
    void app.load()
  }, 250)
}
app.select = (id) => {
  state.selected = id
  events.markSelected(id)
  details.select(id)
}
app.refreshDetails = () => {
  details.refresh()
  events.render()
}

$('#app').append(
  header,
  h('main', { class: 'grid' }, h('div', { class: 'col' }, invoke.card, events.card, timeline.card), details.panel),
  h('dialog', { id: 'confirm', 'data-testid': 'confirm' }),
  h('div', { id: 'toasts', class: 'toasts' }),
)
startTicker()

function fillFunctionSelects(): void {
  for (const sel of [invoke.fnSelect, events.fnSelect]) {
    clear(sel)
    for (const f of state.functions) sel.append(h('option', { value: `${f.namespace}/${f.name}`, text: f.namespace === 'default' ? f.name : `${f.namespace}/${f.name}`, title: `${f.mode} · timeout ${fmtDuration(f.timeoutMs)} · ${f.qualifier}` }))
    sel.value = state.fnKey
  }
}

async function loadFunctions(): Promise<void> {
  const r = await api<{ functions: FunctionSummary[] }>('/api/functions')
  state.functions = r.functions
  // keep the chosen function across a restart if it is still served
  if (!currentFn()) state.fnKey = r.functions[0] ? `${r.functions[0].namespace}/${r.functions[0].name}` : ''
  fillFunctionSelects()
}

loadFunctions().then(
  () => {
    void app.load()
    connectLive(live, {
      onEvent(rec) {
        const fn = currentFn()
        if (!fn || fn.name !== rec.functionName || fn.namespace !== rec.namespace) return
        if (rec.status !== 'RUNNING') delete state.escalations[rec.requestId]
        events.patchRow(rec.requestId, { Status: rec.status, StatusCode: rec.statusCode, EndMs: rec.endTime })
        app.reloadSoon()
      },
      onResync() {
        void loadFunctions()
          .then(() => app.load())
          .then(() => state.selected && details.select(state.selected))
          .catch((err: unknown) => showError('Could not reload after reconnecting', err))
      },
    })
  },
  (err) => {
    showError('Could not load the functions', err)
    state.loadedOnce = true
    events.render()
  },
)
