// Option parsing shared by the network stores.
import { invalidOption } from '../../errors.js'
import type { StoreBody } from '../../persistence/store.js'

/** `value` as a whole number >= `min`, or `fallback` when it is undefined; anything else fails fast naming the option. */
export function intOption(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw invalidOption(name, value, `an integer >= ${min}`)
  return value
}

/** Fails fast unless `body` is bytes or an async iterable of bytes; true when it is bytes. */
export function isBytesBody(body: StoreBody): body is Uint8Array {
  if (body instanceof Uint8Array) return true
  if (body === null || typeof body !== 'object' || typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] !== 'function') {
    throw invalidOption('body', body, 'a Uint8Array or an async iterable of Uint8Array')
  }
  return false
}
