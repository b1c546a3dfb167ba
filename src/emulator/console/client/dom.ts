/** Tiny DOM helpers. Everything user-controlled goes in through textContent or attributes, never as HTML. */
export type Attrs = Record<string, string | boolean | number | ((ev: Event) => void) | undefined>
export type Child = Node | string | null | undefined | false

export const $ = <T extends HTMLElement>(sel: string): T => document.querySelector(sel) as T

export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag)
  setAttrs(el, attrs)
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c)
  return el
}

const SVG_NS = 'http://www.w3.org/2000/svg'

/** The same for SVG elements (the timeline). */
export function s(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag)
  setAttrs(el, attrs)
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c)
  return el
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue
    if (typeof v === 'function') el.addEventListener(k.slice(2), v)
    else if (k === 'class') el.setAttribute('class', String(v))
    else if (k === 'text') el.textContent = String(v)
    else el.setAttribute(k, v === true ? '' : String(v))
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.firstChild.remove()
}
