/**
 * Signature v1 of the Tencent Cloud API (doc 1278/46710's "signature method v1"): the common parameters `Nonce`,
 * `Timestamp`, `SecretId`, `SignatureMethod` (HmacSHA1, the default, or HmacSHA256) and `Signature` travel with the
 * action's own parameters, in the query string (GET) or a form body (POST). Only GET and form POST may use it.
 *
 * The string signed is `METHOD + host + path + '?' + k=v&...` over every parameter but `Signature`, sorted by name,
 * values as they are (not URL-encoded), and the signature is the base64 HMAC of it with the SecretKey.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { DEFAULT_MAX_SKEW_SECONDS } from './tc3.js'

const METHODS: Record<string, 'sha1' | 'sha256'> = { HmacSHA1: 'sha1', HmacSHA256: 'sha256' }

export interface V1Request {
  method: string
  /** The Host header (the SDK signs its endpoint, host with port). */
  host: string
  path: string
  /** Every parameter as it arrived, `Signature` included. */
  params: Record<string, string>
}

export type V1Result =
  | { ok: true; secretId: string }
  | { ok: false; code: 'AuthFailure.SignatureFailure' | 'AuthFailure.SignatureExpire' | 'AuthFailure.SecretIdNotFound' | 'MissingParameter' | 'InvalidParameterValue'; message: string }

/** The v1 string to sign for these parameters (without `Signature`). */
export function v1StringToSign(method: string, host: string, path: string, params: Record<string, string>): string {
  const pairs = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${k}=${params[k]}`)
  return `${method.toUpperCase()}${host}${path}?${pairs.join('&')}`
}

/** The base64 signature of `params` (tests and tools). */
export function signV1(secretKey: string, method: string, host: string, path: string, params: Record<string, string>): string {
  const algorithm = METHODS[params.SignatureMethod ?? 'HmacSHA1'] ?? 'sha1'
  return createHmac(algorithm, secretKey).update(v1StringToSign(method, host, path, params), 'utf8').digest('base64')
}

/** Verifies a v1-signed request, with the same error codes as TC3. */
export function verifyV1(req: V1Request, options: { credentials: ReadonlyMap<string, string>; maxSkewSeconds?: number; now?: number }): V1Result {
  const p = req.params
  for (const name of ['SecretId', 'Timestamp', 'Nonce', 'Signature']) {
    if (p[name] === undefined) return { ok: false, code: 'MissingParameter', message: `The request is missing the parameter \`${name}\` (signature v1), or an Authorization header (TC3-HMAC-SHA256).` }
  }
  const method = p.SignatureMethod ?? 'HmacSHA1'
  if (!METHODS[method]) return { ok: false, code: 'InvalidParameterValue', message: `SignatureMethod must be HmacSHA1 or HmacSHA256, got ${JSON.stringify(method.slice(0, 20))}.` }
  if (!/^\d{1,12}$/.test(p.Timestamp as string)) return { ok: false, code: 'AuthFailure.SignatureFailure', message: 'Timestamp is not a number of seconds.' }
  const timestamp = Number(p.Timestamp)
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const skew = options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS
  if (Math.abs(now - timestamp) > skew) {
    return { ok: false, code: 'AuthFailure.SignatureExpire', message: `Signature expired: Timestamp ${timestamp} is more than ${skew} s away from the server time ${now}.` }
  }
  const secretId = p.SecretId as string
  const secretKey = options.credentials.get(secretId)
  if (secretKey === undefined) return { ok: false, code: 'AuthFailure.SecretIdNotFound', message: 'The SecretId is not found; check that it is the one the emulator was started with.' }
  const given = Buffer.from(p.Signature as string, 'base64')
  // the SDK signs its endpoint (host with port); a client may sign the bare host: both spellings are tried
  for (const host of new Set([req.host, req.host.replace(/:\d+$/, '')])) {
    const computed = createHmac(METHODS[method] as string, secretKey).update(v1StringToSign(req.method, host, req.path, p), 'utf8').digest()
    if (computed.length === given.length && timingSafeEqual(computed, given)) return { ok: true, secretId }
  }
  return { ok: false, code: 'AuthFailure.SignatureFailure', message: 'The provided credentials could not be validated: the signature does not match (check the SecretKey and the signing method).' }
}
