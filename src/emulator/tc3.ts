/**
 * TC3-HMAC-SHA256, the signature of Tencent Cloud API 3.0: signing (tests, tools) and verification (the emulator).
 * Spec: https://cloud.tencent.com/document/api/213/30654
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export const TC3_ALGORITHM = 'TC3-HMAC-SHA256'

/** The real API rejects a request whose X-TC-Timestamp is more than 5 minutes away from the server clock. */
export const DEFAULT_MAX_SKEW_SECONDS = 300

export interface Tc3SignInput {
  secretId: string
  secretKey: string
  /** Seconds since epoch (X-TC-Timestamp). */
  timestamp: number
  /** The credential scope's service, e.g. 'scf'. */
  service: string
  /** @default 'POST' */
  method?: string
  /** @default '/' */
  path?: string
  /** @default '' */
  query?: string
  /** Header name (any case) -> value, for every header in `signedHeaders`. */
  headers: Record<string, string>
  /** @default ['content-type', 'host'] */
  signedHeaders?: string[]
  body: string | Uint8Array
}

/** The `Authorization` header value for a request. */
export function signTc3(input: Tc3SignInput): string {
  const signedHeaders = (input.signedHeaders ?? ['content-type', 'host']).map((h) => h.toLowerCase()).sort()
  const lower: Record<string, string> = {}
  for (const [k, v] of Object.entries(input.headers)) lower[k.toLowerCase()] = v
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${(lower[h] ?? '').trim().toLowerCase()}\n`).join('')
  const signature = computeSignature({
    secretKey: input.secretKey,
    timestamp: input.timestamp,
    date: utcDate(input.timestamp),
    service: input.service,
    canonicalRequest: canonicalRequest(input.method ?? 'POST', input.path ?? '/', input.query ?? '', canonicalHeaders, signedHeaders.join(';'), sha256Hex(input.body)),
  })
  return `${TC3_ALGORITHM} Credential=${input.secretId}/${utcDate(input.timestamp)}/${input.service}/tc3_request, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`
}

export interface Tc3Request {
  method: string
  /** Path without the query string. */
  path: string
  query: string
  /** Node's lowercased incoming headers. */
  headers: Record<string, string | string[] | undefined>
  body: Uint8Array
}

export interface Tc3VerifyOptions {
  /** secretId -> secretKey */
  credentials: ReadonlyMap<string, string>
  /** Seconds since epoch. @default now */
  now?: number
  /** @default 300 */
  maxSkewSeconds?: number
}

export type Tc3Result =
  | { ok: true; secretId: string; service: string }
  | { ok: false; code: 'AuthFailure.SignatureFailure' | 'AuthFailure.SignatureExpire' | 'AuthFailure.SecretIdNotFound' | 'AuthFailure.InvalidAuthorization' | 'MissingParameter'; message: string }

const AUTH_RE = /^TC3-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{4}-\d{2}-\d{2})\/([^/,\s]+)\/tc3_request,\s*SignedHeaders=([a-z0-9;._-]+),\s*Signature=([0-9a-f]{64})$/

/**
 * Verifies a request's TC3 signature. Accepts whatever service the credential scope names: the official SDK derives it
 * from the first label of the endpoint host, which for `127.0.0.1:PORT` is `127`.
 */
export function verifyTc3(req: Tc3Request, options: Tc3VerifyOptions): Tc3Result {
  const auth = header(req.headers, 'authorization')
  if (!auth) return { ok: false, code: 'AuthFailure.SignatureFailure', message: 'The request has no Authorization header.' }
  const match = AUTH_RE.exec(auth.trim())
  if (!match) return { ok: false, code: 'AuthFailure.InvalidAuthorization', message: 'The Authorization header is not a well-formed TC3-HMAC-SHA256 authorization.' }
  const [, secretId = '', date = '', service = '', signedHeaderList = '', signature = ''] = match

  const tsRaw = header(req.headers, 'x-tc-timestamp')
  if (!tsRaw) return { ok: false, code: 'MissingParameter', message: 'The request is missing the X-TC-Timestamp header.' }
  if (!/^\d{1,12}$/.test(tsRaw.trim())) return { ok: false, code: 'AuthFailure.SignatureFailure', message: 'X-TC-Timestamp is not a number of seconds.' }
  const timestamp = Number(tsRaw.trim())
  const now = options.now ?? Math.floor(Date.now() / 1000)
  if (Math.abs(now - timestamp) > (options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS)) {
    return { ok: false, code: 'AuthFailure.SignatureExpire', message: `Signature expired: X-TC-Timestamp ${timestamp} is more than ${options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS} s away from the server time ${now}.` }
  }
  if (date !== utcDate(timestamp)) return { ok: false, code: 'AuthFailure.SignatureFailure', message: 'The date in the credential scope does not match X-TC-Timestamp.' }

  const secretKey = options.credentials.get(secretId)
  if (secretKey === undefined) return { ok: false, code: 'AuthFailure.SecretIdNotFound', message: 'The SecretId is not found; check that it is the one the emulator was started with.' }

  const signedHeaders = signedHeaderList.split(';')
  if (!signedHeaders.includes('content-type') || !signedHeaders.includes('host') || [...signedHeaders].sort().join(';') !== signedHeaderList) {
    return { ok: false, code: 'AuthFailure.SignatureFailure', message: 'SignedHeaders must list content-type and host, sorted.' }
  }
  const payloadHash = sha256Hex(req.body)
  // The official Node SDK signs `host` as the hostname without the port (it uses URL.hostname) while it sends the
  // Host header with the port, so both spellings are tried; the key still has to match.
  const hosts = new Set<string>()
  const hostHeader = header(req.headers, 'host') ?? ''
  hosts.add(hostHeader)
  hosts.add(hostHeader.replace(/:\d+$/, ''))
  const expected = Buffer.from(signature, 'hex')
  for (const host of hosts) {
    const canonicalHeaders = signedHeaders
      .map((h) => `${h}:${(h === 'host' ? host : header(req.headers, h) ?? '').trim().toLowerCase()}\n`)
      .join('')
    const computed = computeSignature({
      secretKey,
      timestamp,
      date,
      service,
      canonicalRequest: canonicalRequest(req.method.toUpperCase(), req.path, req.query, canonicalHeaders, signedHeaderList, payloadHash),
    })
    if (timingSafeEqual(Buffer.from(computed, 'hex'), expected)) return { ok: true, secretId, service }
  }
  return { ok: false, code: 'AuthFailure.SignatureFailure', message: 'The provided credentials could not be validated: the signature does not match (check the SecretKey and the signing method).' }
}

function canonicalRequest(method: string, path: string, query: string, canonicalHeaders: string, signedHeaders: string, payloadHash: string): string {
  return `${method}\n${path}\n${query}\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`
}

function computeSignature(p: { secretKey: string; timestamp: number; date: string; service: string; canonicalRequest: string }): string {
  const stringToSign = `${TC3_ALGORITHM}\n${p.timestamp}\n${p.date}/${p.service}/tc3_request\n${sha256Hex(p.canonicalRequest)}`
  const kDate = hmac(`TC3${p.secretKey}`, p.date)
  const kService = hmac(kDate, p.service)
  const kSigning = hmac(kService, 'tc3_request')
  return createHmac('sha256', kSigning).update(stringToSign).digest('hex')
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest()
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

function utcDate(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10)
}

function header(headers: Tc3Request['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}
