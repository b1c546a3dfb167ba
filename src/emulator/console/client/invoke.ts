/** The invoke form: function, invocation type, JSON payload (checked before anything is sent). */
import { api } from './api.js'
import { clear, h } from './dom.js'
import { fmtDuration, pretty } from './format.js'
import { app, fnOf, state } from './state.js'
import type { ApiError } from './api.js'

const HINT = 'JSON · async events up to 128 KB · Ctrl+Enter to invoke'

export interface InvokeView {
  card: HTMLElement
  fnSelect: HTMLSelectElement
}

export function createInvokeView(onFunctionChosen: (key: string) => void): InvokeView {
  const fnSelect = h('select', { id: 'invoke-function', 'data-testid': 'invoke-function' }) as HTMLSelectElement
  const payload = h('textarea', { id: 'invoke-payload', 'data-testid': 'invoke-payload', rows: 4, spellcheck: 'false', placeholder: '{ "key": "value" }' }) as HTMLTextAreaElement
  payload.value = '{}'
  const hint = h('div', { class: 'hint', id: 'payload-hint', text: HINT })
  const typeEvent = h('input', { type: 'radio', name: 'invoke-type', value: 'Event', checked: true, id: 'type-event', 'data-testid': 'type-event' }) as HTMLInputElement
  const typeSync = h('input', { type: 'radio', name: 'invoke-type', value: 'RequestResponse', id: 'type-sync', 'data-testid': 'type-sync' }) as HTMLInputElement
  const button = h('button', { class: 'btn btn-primary', type: 'submit', 'data-testid': 'invoke-button', text: 'Invoke' }) as HTMLButtonElement
  const result = h('div', { class: 'invoke-result', 'data-testid': 'invoke-result', 'aria-live': 'polite' })
  void typeEvent

  function valid(): boolean {
    try {
      JSON.parse(payload.value || '{}')
      payload.classList.remove('invalid')
      hint.textContent = HINT
      hint.classList.remove('hint-error')
      return true
    } catch (err) {
      payload.classList.add('invalid')
      hint.textContent = `Not valid JSON: ${(err as Error).message}`
      hint.classList.add('hint-error')
      return false
    }
  }
  payload.addEventListener('input', valid)
  payload.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault()
      void invoke()
    }
  })

  async function invoke(): Promise<void> {
    const fn = fnOf(fnSelect.value)
    if (!fn || !valid()) return
    const sync = typeSync.checked
    button.disabled = true
    button.textContent = sync ? 'Running…' : 'Invoking…'
    clear(result)
    try {
      const res = await api<{ Result: { FunctionRequestId: string; RetMsg: string; ErrMsg: string; Log: string; Duration: number; InvokeResult: number } }>('/api/invoke', {
        functionName: fn.name,
        namespace: fn.namespace,
        invocationType: sync ? 'RequestResponse' : 'Event',
        payload: payload.value || '{}',
      })
      const r = res.Result
      if (!sync) {
        result.append(h('div', { class: 'banner banner-ok' }, 'Started event ', h('button', { type: 'button', class: 'link mono', text: r.FunctionRequestId, onclick: () => app.select(r.FunctionRequestId) })))
        if (state.fnKey !== fnSelect.value) onFunctionChosen(fnSelect.value)
        state.offset = 0
        await app.load()
        app.select(r.FunctionRequestId)
      } else {
        const ok = r.InvokeResult === 0 && !r.ErrMsg
        result.append(
          h('div', { class: `banner ${ok ? 'banner-ok' : 'banner-error'}` }, h('strong', { text: ok ? 'Returned' : 'Failed' }), ` in ${fmtDuration(r.Duration)} · `, h('span', { class: 'mono', text: r.FunctionRequestId })),
          h('pre', { class: `result${ok ? '' : ' result-error'}`, text: ok ? pretty(r.RetMsg) : pretty(r.ErrMsg) }),
        )
        if (r.Log) result.append(h('details', {}, h('summary', { text: 'Log (last 4 KB)' }), h('pre', { class: 'result', text: r.Log })))
      }
    } catch (err) {
      const e = err as ApiError
      result.append(h('div', { class: 'banner banner-error' }, h('strong', { text: 'Invoke failed: ' }), `${e.code ? `${e.code}: ` : ''}${e.message}`))
    } finally {
      button.disabled = false
      button.textContent = 'Invoke'
    }
  }

  const card = h(
    'section',
    { class: 'card invoke' },
    h('h2', { text: 'Invoke' }),
    h(
      'form',
      { id: 'invoke-form', onsubmit: (ev: Event) => (ev.preventDefault(), void invoke()) },
      h('div', { class: 'field' }, h('label', { for: 'invoke-function', text: 'Function' }), fnSelect),
      h(
        'fieldset',
        { class: 'field' },
        h('legend', { text: 'Invocation type' }),
        h('label', { class: 'radio', title: 'Returns at once with the event id; the event runs in the background' }, typeEvent, ' Event (async)'),
        h('label', { class: 'radio', title: 'Waits for the result' }, typeSync, ' RequestResponse (sync)'),
      ),
      h('div', { class: 'field grow' }, h('label', { for: 'invoke-payload', text: 'Payload' }), payload, hint),
      h('div', { class: 'actions' }, button),
    ),
    result,
  )
  return { card, fnSelect }
}
