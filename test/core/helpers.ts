import { fileURLToPath } from 'node:url'
import { afterEach, expect } from 'vitest'
import { waitFor } from '../setup/wait.js'
import { InvocationError, startFunction, type FunctionInstance, type StartFunctionOptions } from '../../src/testing/index.js'

export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

/** Waits until a log line matches (bounded), so a signal is sent only once the handler is really running. */
export async function waitForLog(fn: FunctionInstance, pattern: RegExp | string, timeoutMs = 10_000): Promise<string> {
  const hit = await waitFor(() => fn.logs.find((l) => (typeof pattern === 'string' ? l.line.includes(pattern) : pattern.test(l.line))), {
    what: () => `a log line matching ${pattern}; logs:\n${lines(fn).join('\n')}`,
    timeoutMs,
  })
  return hit.line
}

export const lines = (fn: FunctionInstance) => fn.logs.map((l) => l.line)

export const count = (fn: FunctionInstance, pattern: RegExp) => fn.logs.filter((l) => pattern.test(l.line)).length

/** Waits until at least `n` log lines match (bounded). */
export async function waitForCount(fn: FunctionInstance, pattern: RegExp, n: number, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => count(fn, pattern) >= n, { what: () => `${n} log lines matching ${pattern}; logs:\n${lines(fn).join('\n')}`, timeoutMs })
}

/** A `start(entry, options)` whose instances are all stopped after each test. */
export function useInstances(defaults: Partial<StartFunctionOptions> = {}): (entry: string, options?: Partial<StartFunctionOptions>) => Promise<FunctionInstance> {
  const started: FunctionInstance[] = []
  afterEach(async () => {
    await Promise.all(started.splice(0).map((fn) => fn.stop()))
  })
  return async (entry, options = {}) => {
    // SCFG_TEST_RUNTIME=Nodejs16.13|Nodejs18.15 runs these instances on SCF's exact runtime (.ci/run does, per runtime)
    const runtime = process.env.SCFG_TEST_RUNTIME as StartFunctionOptions['runtime'] | undefined
    const fn = await startFunction({ entry, ...(runtime ? { runtime } : {}), ...defaults, ...options })
    started.push(fn)
    return fn
  }
}

/** The InvocationError an invocation rejected with (fails the test if it resolved or rejected otherwise). */
export async function invocationFailure(p: Promise<unknown>): Promise<InvocationError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(InvocationError)
  return err as InvocationError
}
