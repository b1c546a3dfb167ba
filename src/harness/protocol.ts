/** Messages between the harness (parent) and a code-mode instance's runtime (child), over Node's IPC channel. */

export interface InvokeMessage {
  type: 'invoke'
  id: string
  event: unknown
  context: Record<string, unknown>
}

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'load-error'; message: string; code?: string }
  | { type: 'result'; id: string; ok: true; json: string }
  | { type: 'result'; id: string; ok: false; error: { message: string; name: string; code?: string; stack?: string } }

/** Environment variables the harness passes to the code runtime. */
export const RUNTIME_ENV = { entry: 'SCFG_RUNTIME_ENTRY', handler: 'SCFG_RUNTIME_HANDLER' } as const

/**
 * A line the runtime writes to stdout and to stderr (each) just before it sends an invocation's result. The stdio
 * pipes and the IPC channel are separate, so without it the result can overtake the last log lines; the parent
 * holds the result until both markers came through, and never shows them as log lines.
 */
export const SYNC_MARK = '\u0000scfg-sync '
