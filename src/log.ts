/**
 * Logging: one line per lifecycle phase, never a secret. Any logger with `info/warn/error(message: string)` fits
 * (console, pino, winston). Every line passes through `redact()` first.
 */

export interface Logger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

// v2: the registry became bounded (issue 10 item 8); a v1 copy of the package keeps its own Set
const kSecrets = Symbol.for('scf-graceful.secrets.v2')
const SECRET_ENV = ['TENCENTCLOUD_SECRETID', 'TENCENTCLOUD_SECRETKEY', 'TENCENTCLOUD_SESSIONTOKEN'] as const
/**
 * Rotating secrets kept (the most recently seen first): SCF rotates the role's temporary credentials, and an image
 * function sees a new X-Scf-Secret-* set every so often. Keeping every one ever seen cost memory and time on every
 * log line (60k sets: +170 MB); the last 64 values (21 sets of id, key and token) cover the ones in use.
 */
export const MAX_ROTATING_SECRETS = 64

interface SecretRegistry {
  /** From configuration (store options, CLI credentials): few, kept for the life of the process. */
  pinned: Map<string, string[]>
  /** From requests and rotating env credentials, least recently seen first (a Map keeps insertion order). */
  rotating: Map<string, string[]>
}

function registry(): SecretRegistry {
  const g = globalThis as Record<symbol, SecretRegistry | undefined>
  return (g[kSecrets] ??= { pinned: new Map(), rotating: new Map() })
}

/** The value and the forms it takes in a URL or a form body (percent-encoded, upper or lower case hex). */
function formsOf(value: string): string[] {
  const forms = [value]
  const encoded = encodeURIComponent(value)
  if (encoded !== value) {
    forms.push(encoded)
    const lower = encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())
    if (lower !== encoded) forms.push(lower)
  }
  return forms
}

export interface RegisterSecretOptions {
  /**
   * The value rotates (request headers, role credentials read per request): only the most recent
   * MAX_ROTATING_SECRETS rotating values are kept. Values from configuration stay for the life of the process.
   * @default false
   */
  rotating?: boolean
}

/**
 * Remembers a value that must never be logged (credentials that arrived in headers or options); it is redacted
 * as is and URL-encoded.
 */
export function registerSecret(value: string | undefined | null, options: RegisterSecretOptions = {}): void {
  // short values would redact ordinary words; real keys and tokens are long
  if (!value || value.length < 8) return
  const { pinned, rotating } = registry()
  if (pinned.has(value)) return
  if (!options.rotating) {
    rotating.delete(value)
    pinned.set(value, formsOf(value))
    return
  }
  const forms = rotating.get(value) ?? formsOf(value)
  // re-registering moves it to the newest end, so the credentials in use are never the ones dropped
  rotating.delete(value)
  rotating.set(value, forms)
  while (rotating.size > MAX_ROTATING_SECRETS) rotating.delete(rotating.keys().next().value as string)
}

/** How many secrets are remembered (for tests and diagnostics). */
export function secretCount(): { pinned: number; rotating: number } {
  const { pinned, rotating } = registry()
  return { pinned: pinned.size, rotating: rotating.size }
}

function replaceAll(text: string, forms: readonly string[]): string {
  let out = text
  for (const form of forms) if (out.includes(form)) out = out.split(form).join('***')
  return out
}

/** Replaces every known secret (registered ones and SCF's credential env vars), also URL-encoded, with `***`. */
export function redact(text: string): string {
  let out = text
  for (const name of SECRET_ENV) {
    const value = process.env[name]
    if (value && value.length >= 8) out = replaceAll(out, formsOf(value))
  }
  const { pinned, rotating } = registry()
  for (const forms of pinned.values()) out = replaceAll(out, forms)
  for (const forms of rotating.values()) out = replaceAll(out, forms)
  return out
}

/** The default logger: plain lines on stdout/stderr, prefixed so they stand out in the function log. */
export const consoleLogger: Logger = {
  info: (message) => process.stdout.write(`[scf-graceful] ${message}\n`),
  warn: (message) => process.stderr.write(`[scf-graceful] WARN ${message}\n`),
  error: (message) => process.stderr.write(`[scf-graceful] ERROR ${message}\n`),
}

/** A logger that writes nothing (`logger: false`). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} }

/** Wraps a user logger so every line is redacted and a throwing logger never breaks shutdown. */
export function safeLogger(logger: Logger | false | undefined): Logger {
  if (logger === false) return silentLogger
  const base = logger ?? consoleLogger
  const wrap = (level: keyof Logger) => (message: string) => {
    try {
      base[level](redact(message))
    } catch {
      // a broken logger must not stop the shutdown path
    }
  }
  return { info: wrap('info'), warn: wrap('warn'), error: wrap('error') }
}

/** `key=value` pairs for a log line, with the request id first when there is one. */
export function fields(values: Record<string, string | number | boolean | undefined>): string {
  const parts: string[] = []
  for (const [key, value] of Object.entries(values)) if (value !== undefined) parts.push(`${key}=${value}`)
  return parts.join(' ')
}
