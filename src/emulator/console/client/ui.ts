/** Small pieces the page uses everywhere: status pills, ticking times, toasts, the confirmation dialog. */
import { $, clear, h, type Child } from './dom.js'
import { fmtAbs, fmtAgo, fmtDuration } from './format.js'
import type { ApiError } from './api.js'

export function pill(status: string): HTMLElement {
  return h('span', { class: `pill pill-${status.toLowerCase()}`, 'data-testid': 'status' }, status === 'RUNNING' ? h('span', { class: 'dot' }) : null, status)
}

/** A span whose text the ticker keeps current: a relative time. */
export function ago(ms: number): HTMLElement {
  return h('span', { class: 'ago', 'data-ago': ms, title: fmtAbs(ms), text: fmtAgo(ms) })
}

/** A span the ticker keeps current: how long since `start`. */
export function runningFor(start: number): HTMLElement {
  return h('span', { class: 'running-for', 'data-since': start, text: fmtDuration(Date.now() - start) })
}

/** A span counting down to `at` ("12 s"). */
export function countdown(at: number): HTMLElement {
  return h('span', { class: 'countdown', 'data-until': at, text: fmtDuration(Math.max(0, at - Date.now())) })
}

export function startTicker(): void {
  setInterval(() => {
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-ago]'))) el.textContent = fmtAgo(Number(el.dataset.ago))
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-since]'))) el.textContent = fmtDuration(Date.now() - Number(el.dataset.since))
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-until]'))) el.textContent = fmtDuration(Math.max(0, Number(el.dataset.until) - Date.now()))
  }, 1000)
}

export function toast(kind: 'error' | 'info' | 'ok', title: string, detail?: string): void {
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': `toast-${kind}` }, h('strong', { text: title }), detail ? h('div', { class: 'toast-detail', text: detail }) : null)
  el.prepend(h('button', { class: 'toast-close', 'aria-label': 'Dismiss', text: '×', onclick: () => el.remove() }))
  $('#toasts').append(el)
  setTimeout(() => el.remove(), kind === 'error' ? 10_000 : 5000)
}

export function showError(what: string, err: unknown): void {
  const e = err as ApiError
  toast('error', what, `${e.code ? `${e.code}: ` : ''}${e.message}`)
}

/** A modal confirmation; `onOk` runs when the user confirms. */
export function confirmDialog(opts: { title: string; body: Child[]; ok: string; okClass: string; onOk: () => void }): void {
  const dialog = $<HTMLDialogElement>('#confirm')
  clear(dialog)
  dialog.append(
    h(
      'form',
      { method: 'dialog' },
      h('h2', { text: opts.title }),
      ...opts.body,
      h(
        'div',
        { class: 'actions right' },
        h('button', { class: 'btn btn-ghost', value: 'cancel', 'data-testid': 'confirm-cancel', text: 'Cancel' }),
        h('button', { class: `btn ${opts.okClass}`, value: 'ok', 'data-testid': 'confirm-ok', text: opts.ok }),
      ),
    ),
  )
  dialog.onclose = () => {
    if (dialog.returnValue === 'ok') opts.onOk()
  }
  dialog.returnValue = ''
  dialog.showModal()
  ;(dialog.querySelector('[data-testid=confirm-cancel]') as HTMLElement).focus()
}
