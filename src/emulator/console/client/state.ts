/** The page's state, and the few actions the parts call on each other (set up by main.ts). */
import type { EventListRow, FunctionSummary } from '../shared.js'

export const state = {
  functions: [] as FunctionSummary[],
  fnKey: '',
  statuses: new Set<string>(),
  offset: 0,
  limit: 20,
  total: 0,
  events: [] as EventListRow[],
  counts: {} as Record<string, number>,
  /** request id -> when force follows SIGTERM (ms), for pending escalations */
  escalations: {} as Record<string, number>,
  /** rows ticked for a bulk terminate */
  checked: new Set<string>(),
  selected: undefined as string | undefined,
  loadedOnce: false,
}

export const fnOf = (key: string): FunctionSummary | undefined => state.functions.find((f) => `${f.namespace}/${f.name}` === key)
export const currentFn = (): FunctionSummary | undefined => fnOf(state.fnKey)

export const app = {
  /** reloads the event list (and the timeline) now */
  load: async (): Promise<void> => {},
  /** reloads a moment later, once (coalesces bursts of live changes) */
  reloadSoon: (): void => {},
  select: (_id: string | undefined): void => {},
  /** re-renders the details panel (escalation state changed) */
  refreshDetails: (): void => {},
}
