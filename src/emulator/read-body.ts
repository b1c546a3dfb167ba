import type { IncomingMessage } from 'node:http'
import { ScfGracefulError } from '../errors.js'

/** The request body was over the limit (declared in Content-Length or counted while reading). */
export class BodyTooLargeError extends ScfGracefulError {
  static override readonly brand: string = 'BodyTooLargeError'
  constructor(readonly max: number) {
    super('SCFG_ERR_REQUEST_TOO_LARGE', `The request body is over ${max} bytes.`, { details: { max } })
    this.name = 'BodyTooLargeError'
  }
}

/** Reads a request body up to `max` bytes; a larger one is drained (so the socket stays usable) and rejected. */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    if (declared > max) {
      req.resume()
      reject(new BodyTooLargeError(max))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > max) {
        req.removeAllListeners('data')
        req.resume()
        reject(new BodyTooLargeError(max))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}
