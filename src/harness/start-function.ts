import { startCodeInstance } from './code-instance.js'
import { resolveInstanceOptions } from './instance-options.js'
import { createInstanceProcess, type InstanceProcess } from './instance-process.js'
import type { FunctionInstance, FunctionMode, StartFunctionOptions } from './types.js'

/**
 * One function instance = one child process, run the way SCF would run it. The harness (`scf-graceful/testing`)
 * and the local emulator both start instances through `startFunction`; nothing else in this package spawns functions.
 */

type ModeStarter = (host: InstanceProcess) => Promise<FunctionInstance>

/** The image and job modes load only when used (the emulator and most tests need code mode alone). */
async function modeStarter(mode: FunctionMode): Promise<ModeStarter> {
  if (mode === 'code') return startCodeInstance
  if (mode === 'image') return (await import('./image-instance.js')).startImageInstance
  return (await import('./job-instance.js')).startJobInstance
}

/**
 * Starts a function instance in a child process, the way SCF runs it.
 *
 * @example
 * import { startFunction } from 'scf-graceful/testing'
 * const fn = await startFunction({ entry: './index.mjs' })
 * const pending = fn.invoke({ items: 100 })
 * fn.signal('SIGTERM')
 * console.log(await pending) // the handler saw inv.shouldStop and returned
 * await fn.stop()
 */
export async function startFunction(options: StartFunctionOptions): Promise<FunctionInstance> {
  const o = resolveInstanceOptions(options)
  if (o.runtime !== 'host') {
    // fetched once into the runtimes cache (a progress bar on stderr); a clear error offline
    const { resolveRuntime, progressBar } = await import('../runtime-cache/index.js')
    o.execPath = await resolveRuntime(o.runtime, { onProgress: progressBar() })
  }
  const starter = await modeStarter(o.mode)
  const host = await createInstanceProcess(o)
  try {
    return await starter(host)
  } catch (err) {
    if (host.ownsTmpDir) await host.wipeTmp()
    throw err
  }
}
