// Key rules shared by the network stores (the contract in src/persistence/store.ts) and the prefix handling.
import { ScfGracefulError, invalidOption } from '../../errors.js'

/** Throws SCFG_ERR_STORE_KEY_INVALID unless `key` is relative, `/`-separated, without empty or `..` segments or NUL. */
export function assertKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 900 || key.includes('\0') || key.startsWith('/')
    || key.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new ScfGracefulError('SCFG_ERR_STORE_KEY_INVALID', `invalid store key ${JSON.stringify(typeof key === 'string' ? key.slice(0, 120) : key)}`)
  }
}

/** A list prefix may be empty or end in `/`; it follows the key rules otherwise. */
export function assertListPrefix(prefix: string): void {
  if (typeof prefix !== 'string') throw new ScfGracefulError('SCFG_ERR_STORE_KEY_INVALID', `invalid list prefix ${String(prefix)}`)
  if (prefix === '') return
  assertKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix)
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
  for (const key of list) assertKey(key)
  return list
}
