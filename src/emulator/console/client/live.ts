/**
 * The live connection (SSE). The browser retries a dropped stream by itself; when the emulator answers again (a
 * restart on the same data dir keeps the console token) the page resyncs: functions, list, timeline and the selected
 * event, since changes made while it was away never came through the stream. A stream the server refused (an HTTP
 * error ends EventSource for good) is retried here, with a growing pause.
 */
import { streamUrl } from './api.js'
import { h } from './dom.js'
import type { EventRecord } from '../shared.js'

export interface LiveOptions {
  onEvent(record: EventRecord): void
  /** after a reconnect (not the first connect) */
  onResync(): void
}

export function createLiveIndicator(): HTMLElement {
  return h('span', { class: 'live live-off', 'data-testid': 'live', text: 'connecting…' })
}

export function connectLive(indicator: HTMLElement, options: LiveOptions): void {
  let everOpen = false
  let dropped = false
  let pause = 1000

  const show = (on: boolean, text: string, title: string) => {
    indicator.className = `live ${on ? 'live-on' : 'live-off'}`
    indicator.textContent = text
    indicator.title = title
  }

  const open = () => {
    const es = new EventSource(streamUrl())
    es.onopen = () => {
      show(true, 'live', 'Receiving live updates')
      pause = 1000
      if (everOpen && dropped) options.onResync()
      everOpen = true
      dropped = false
    }
    es.onerror = () => {
      dropped = true
      show(false, 'reconnecting…', 'The live connection dropped; retrying')
      if (es.readyState === EventSource.CLOSED) {
        setTimeout(open, pause)
        pause = Math.min(pause * 2, 10_000)
      }
    }
    es.addEventListener('event', (ev) => options.onEvent(JSON.parse((ev as MessageEvent).data) as EventRecord))
  }
  open()
}
