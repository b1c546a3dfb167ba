/** The console's access token: from `?token=`, `X-Console-Token` or `Authorization: Bearer`, compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** The token a request carries, if any. Headers first: a query string lands in logs and history more easily. */
export function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers['x-console-token']
  if (typeof header === 'string' && header) return header
  const auth = req.headers.authorization
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)$/i.exec(auth)
    if (m) return m[1]
  }
  return url.searchParams.get('token') ?? undefined
}

/**
 * True if `given` equals `expected`. Both are hashed first, so the comparison takes the same time whatever the
 * length or content of the guess (timingSafeEqual itself needs equal lengths).
 */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}
