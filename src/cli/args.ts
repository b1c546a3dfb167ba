/**
 * The one argument parser of every `scf-graceful` command: Node's `util.parseArgs` (strict), with its errors turned
 * into UsageError (exit 2) that name the flag and suggest the nearest known one.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from './exit-codes.js'

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>

type Values<O extends OptionSpecs> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values']

export interface Parsed<V> {
  values: V
  positionals: string[]
}

/**
 * Parses `argv` against `options`; at most `maxPositionals` positionals. A wrong flag, a missing value or an extra
 * argument throws UsageError.
 *
 * @example
 * const { values, positionals } = parseCommandLine(argv, { json: { type: 'boolean' } }, 1)
 */
export function parseCommandLine<O extends OptionSpecs>(argv: string[], options: O, maxPositionals = 0): Parsed<Values<O>> {
  let result
  try {
    result = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError(usageMessage(err, options))
  }
  if (result.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument "${result.positionals[maxPositionals]}"`)
  }
  return { values: result.values as Values<O>, positionals: result.positionals }
}

function usageMessage(err: unknown, options: OptionSpecs): string {
  // parseArgs messages carry a long hint about '--'; the first sentence is the useful part
  const message = ((err as Error)?.message ?? String(err)).split('. To specify')[0]!.replace(/\.$/, '')
  const unknown = /^Unknown option '(-{1,2})([^'=]+)'/.exec(message)
  if (unknown) {
    const guess = closest(unknown[2] as string, Object.keys(options))
    if (guess) return `${message}; did you mean --${guess}?`
  }
  return message
}

/** The candidate nearest to `word` (edit distance at most a third of its length, at least 1), if any. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase()
  let best: string | undefined
  let bestDistance = Math.max(1, Math.floor(w.length / 3)) + 1
  for (const c of candidates) {
    const d = c.toLowerCase().startsWith(w) && w.length >= 3 ? 1 : distance(w, c.toLowerCase())
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}

/** `message; did you mean X?` when a value is close to one of `choices`. */
export function didYouMean(value: string, choices: readonly string[]): string {
  const guess = closest(value, choices)
  return guess ? `; did you mean ${guess}?` : ''
}
