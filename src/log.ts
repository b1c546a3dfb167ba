/**
 * Logging: one line per lifecycle phase, never a secret. Any logger with `info/warn/error(message: string)` fits
 * (console, pino, winston). Every line passes through `redact()` first.
 */

export interface Logger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

const kSecrets = Symbol.for('scf-graceful.secrets.v1')
const SECRET_ENV = ['TENCENTCLOUD_SECRETID', 'TENCENTCLOUD_SECRETKEY', 'TENCENTCLOUD_SESSIONTOKEN'] as const

type SecretRegistry = Set<string>

function registry(): SecretRegistry {
  const g = globalThis as Record<symbol, SecretRegistry | undefined>
  return (g[kSecrets] ??= new Set())
}

/** Remembers a value that must never be logged (credentials that arrived in headers or options). */
export function registerSecret(value: string | undefined | null): void {
  // short values would redact ordinary words; real keys and tokens are long
  if (value && value.length >= 8) registry().add(value)
}

/** Replaces every known secret (registered ones and SCF's credential env vars) with `***`. */
export function redact(text: string): string {
  let out = text
  for (const name of SECRET_ENV) {
    const value = process.env[name]
    if (value && value.length >= 8 && out.includes(value)) out = out.split(value).join('***')
  }
  for (const value of registry()) if (out.includes(value)) out = out.split(value).join('***')
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
