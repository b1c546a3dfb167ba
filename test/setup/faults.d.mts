import type { SnapshotStore } from '../../src/persistence/store.js'

export type StoreOp = 'put' | 'get' | 'has' | 'readInto' | 'list' | 'delete'
export interface FaultRule {
  op: StoreOp | StoreOp[]
  key?: RegExp | string | ((key: string) => boolean)
  after?: number
  times?: number
  action: 'fail' | 'hang' | 'hang-ignoring-signal' | 'delay' | 'fail-midway'
  delayMs?: number
  error?: (message: string) => Error
}
export type FaultStore = SnapshotStore & {
  calls: Record<StoreOp, number>
  state: { faults: number }
  setRules(rules: FaultRule[]): void
}
export function injectedError(message?: string): Error & { code: string; injected: true }
export function faultStore(inner: SnapshotStore, rules?: FaultRule[]): FaultStore
export function startSilentServer(): Promise<{ port: number; url: string; connections: number; close(): Promise<void> }>
