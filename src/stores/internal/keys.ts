// Key handling shared by the network stores: the key rules are the contract's (assertStoreKey); this adds list
// prefixes, the store's own `prefix` option and batches.
import { invalidOption } from '../../errors.js'
import { assertStoreKey } from '../../persistence/store.js'

export { assertStoreKey as assertKey }

/** A list prefix may be empty or end in `/`; it follows the key rules otherwise. */
export function assertListPrefix(prefix: string): void {
  if (prefix === '') return
  assertStoreKey(typeof prefix === 'string' && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix)
}

/** Validates the store's own `prefix` option (what every key is placed under). */
export function normalizePrefix(prefix: unknown, option = 'prefix'): string {
  if (prefix === undefined || prefix === '') return ''
  if (typeof prefix !== 'string' || prefix.includes('\0') || prefix.startsWith('/') || prefix.split('/').includes('..')) {
    throw invalidOption(option, prefix, 'a relative string without "..", NUL or a leading "/"')
  }
  return prefix
}

/** `keys` as an array, each validated. */
export function keyList(keys: string | readonly string[]): string[] {
  const list = typeof keys === 'string' ? [keys] : [...keys]
  for (const key of list) assertStoreKey(key)
  return list
}
