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
