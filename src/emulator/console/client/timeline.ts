/**
 * The timeline: one lane per instance (child process), each event a bar from its start to its end, coloured by
 * status, with marks where the log shows SIGTERM, a force kill, a checkpoint or a flush. Drawn as SVG from
 * GET /api/timeline; a click on a bar selects the event.
 */
import { api } from './api.js'
import { clear, h, s } from './dom.js'
import { fmtClock, fmtDuration, zoned } from './format.js'
import { app, currentFn } from './state.js'
import type { MarkKind, Timeline, TimelineEvent } from '../shared.js'

const LANE_H = 30
const LABEL_W = 120
const AXIS_H = 22
const MARK_TEXT: Record<MarkKind, string> = {
  sigterm: 'SIGTERM',
  'signal-failed': 'SIGTERM not delivered',
  force: 'killed by force',
  checkpoint: 'checkpoint',
  flush: 'flush',
  'persist-failed': 'checkpoint/flush failed',
}

export interface TimelineView {
  card: HTMLElement
  load(): Promise<void>
}

export function createTimelineView(): TimelineView {
  const body = h('div', { class: 'timeline-body', 'data-testid': 'timeline' })
  const legend = h(
    'div',
    { class: 'legend' },
    ...(['running', 'finished', 'failed', 'aborted'] as const).map((st) => h('span', { class: 'lg' }, h('i', { class: `sw sw-${st}` }), st)),
    ...(['sigterm', 'force', 'checkpoint', 'flush'] as const).map((k) => h('span', { class: 'lg' }, markIcon(k), MARK_TEXT[k])),
  )
  const card = h('section', { class: 'card timeline-card' }, h('div', { class: 'card-head' }, h('h2', { text: 'Timeline' }), h('span', { class: 'count', text: 'per instance · last 100 events' })), body, legend)
  let data: Timeline | undefined
  let skew = 0

  async function load(): Promise<void> {
    const fn = currentFn()
    if (!fn) {
      data = undefined
      return render()
    }
    try {
      data = await api<Timeline>(`/api/timeline?function=${encodeURIComponent(fn.name)}&namespace=${encodeURIComponent(fn.namespace)}`)
      skew = data.now - Date.now()
    } catch {
      // the list shows the error; the timeline keeps its last picture
    }
    render()
  }

  function render(): void {
    clear(body)
    if (!data || !data.events.length) {
      body.append(h('div', { class: 'empty small', text: 'No events to draw yet.' }))
      return
    }
    const now = Date.now() + skew
    const events = data.events
    const t0 = Math.min(...events.map((e) => e.startTime))
    const t1 = Math.max(now, ...events.map((e) => e.endTime ?? now))
    const span = Math.max(t1 - t0, 1000)
    const from = t0 - span * 0.02
    const to = t1 + span * 0.02
    const width = Math.max(body.clientWidth || 800, 400)
    const plotW = width - LABEL_W - 12
    const x = (t: number) => LABEL_W + ((t - from) / (to - from)) * plotW

    // lanes in the order instances first ran something
    const lanes = new Map<string, TimelineEvent[]>()
    for (const e of [...events].sort((a, b) => a.startTime - b.startTime)) {
      const key = e.instanceId ?? 'none'
      let lane = lanes.get(key)
      if (!lane) lanes.set(key, (lane = []))
      lane.push(e)
    }
    const height = AXIS_H + lanes.size * LANE_H + 6
    const svg = s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `Timeline of ${events.length} events on ${lanes.size} instance(s)` })

    // time axis: ~6 ticks at round steps
    const step = niceStep((to - from) / 6)
    for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
      const tx = x(t)
      svg.append(s('line', { x1: tx, x2: tx, y1: AXIS_H - 4, y2: height, class: 'tl-grid' }), s('text', { x: tx, y: 12, class: 'tl-tick', 'text-anchor': 'middle', text: tickLabel(t, step) }))
    }

    let i = 0
    for (const [key, lane] of lanes) {
      const y = AXIS_H + i * LANE_H
      i++
      svg.append(
        s('rect', { x: 0, y, width, height: LANE_H, class: i % 2 ? 'tl-lane' : 'tl-lane tl-lane-alt' }),
        s('text', { x: 8, y: y + LANE_H / 2 + 4, class: 'tl-label' }, key === 'none' ? 'no instance' : `instance ${i}`, s('title', { text: key === 'none' ? 'events that never got an instance' : key })),
      )
      for (const e of lane) {
        const end = e.endTime ?? now
        const bx = x(e.startTime)
        const bw = Math.max(3, x(end) - bx)
        const bar = s(
          'rect',
          {
            x: bx,
            y: y + 7,
            width: bw,
            height: LANE_H - 14,
            rx: 3,
            class: `tl-bar tl-${e.status.toLowerCase()}`,
            'data-testid': 'timeline-bar',
            'data-id': e.requestId,
            onclick: () => app.select(e.requestId),
          },
          s('title', { text: `${e.requestId}\n${e.status} ${e.statusCode} · ${fmtDuration(end - e.startTime)}${e.endTime === null ? ' so far' : ''}` }),
        )
        svg.append(bar)
        for (const m of e.marks) {
          const g = markIcon(m.kind, x(m.time), y + LANE_H / 2) as SVGElement
          g.setAttribute('data-testid', `mark-${m.kind}`)
          g.setAttribute('data-id', e.requestId)
          // a mark sits on its event's bar: a click on it means that event too
          g.addEventListener('click', () => app.select(e.requestId))
          g.append(s('title', { text: `${MARK_TEXT[m.kind]} at ${fmtClock(m.time)}${m.text ? `\n${m.text}` : ''}` }))
          svg.append(g)
        }
      }
    }
    body.append(svg)
  }

  // running bars grow, and the width follows the window
  setInterval(() => {
    if (data?.events.some((e) => e.endTime === null)) render()
  }, 1000)
  window.addEventListener('resize', () => render())
  return { card, load }
}

/** A mark's symbol, centred on (cx, cy); standalone (legend) when no position is given. */
function markIcon(kind: MarkKind, cx?: number, cy?: number): Element {
  const inline = cx === undefined
  const X = cx ?? 7
  const Y = cy ?? 7
  let shape: SVGElement
  switch (kind) {
    case 'sigterm':
    case 'signal-failed':
      // a flag on a pole: the moment SIGTERM reached (or missed) the instance
      shape = s('g', { class: `tl-mark tl-${kind}` }, s('line', { x1: X, x2: X, y1: Y - 11, y2: Y + 11 }), s('path', { d: `M${X} ${Y - 11} l8 3.5 l-8 3.5 z` }))
      break
    case 'force':
      shape = s('g', { class: 'tl-mark tl-force' }, s('path', { d: `M${X - 5} ${Y - 5} L${X + 5} ${Y + 5} M${X + 5} ${Y - 5} L${X - 5} ${Y + 5}` }))
      break
    case 'checkpoint':
      shape = s('g', { class: 'tl-mark tl-checkpoint' }, s('circle', { cx: X, cy: Y, r: 4 }))
      break
    case 'flush':
      shape = s('g', { class: 'tl-mark tl-flush' }, s('path', { d: `M${X} ${Y - 5} L${X + 5} ${Y} L${X} ${Y + 5} L${X - 5} ${Y} z` }))
      break
    default:
      shape = s('g', { class: 'tl-mark tl-persist-failed' }, s('circle', { cx: X, cy: Y, r: 4 }))
  }
  if (!inline) return shape
  return s('svg', { width: 14, height: 22, viewBox: '0 -4 14 22', class: 'lg-icon' }, shape)
}

function niceStep(raw: number): number {
  const steps = [100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000]
  return steps.find((st) => st >= raw) ?? 86_400_000
}

function tickLabel(t: number, step: number): string {
  const z = zoned(t)
  const hm = `${String(z.hour).padStart(2, '0')}:${String(z.minute).padStart(2, '0')}`
  if (step >= 60_000) return hm
  const sec = `${hm}:${String(z.second).padStart(2, '0')}`
  return step >= 1000 ? sec : `${sec}.${String(z.milli).padStart(3, '0')}`
}
