/**
 * The console token kept in the data dir, so the console URL (and an open tab) survives a restart of the emulator
 * on the same data dir. The file is the user's only: mode 0600, written once (O_EXCL), repaired if its mode drifted.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { invalidOption, ScfGracefulError } from '../../errors.js'

export const CONSOLE_TOKEN_FILE = 'console-token'
export const CONSOLE_TOKEN_RE = /^[A-Za-z0-9._~-]{8,256}$/

/** Checks a pinned token (`--console-token`): at least 8 URL-safe characters. */
export function checkConsoleToken(token: unknown, option = 'consoleToken'): string {
  if (typeof token !== 'string' || !CONSOLE_TOKEN_RE.test(token)) throw invalidOption(option, typeof token === 'string' ? `(${token.length} characters)` : token, '8-256 characters of A-Z a-z 0-9 . _ ~ -')
  return token
}

/** The data dir's console token, created on first use. */
export function persistedConsoleToken(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true })
  const path = join(dataDir, CONSOLE_TOKEN_FILE)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const token = readFileSync(path, 'utf8').trim()
      if (CONSOLE_TOKEN_RE.test(token)) {
        if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600)
        return token
      }
      // unreadable content (an editor, a half-written file): replaced below by a fresh token
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    const token = randomBytes(16).toString('hex')
    let fd: number
    try {
      fd = openSync(path, attemptFlags(path), 0o600)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue // created meanwhile: read that one
      throw err
    }
    try {
      writeSync(fd, `${token}\n`)
    } finally {
      closeSync(fd)
    }
    chmodSync(path, 0o600)
    return token
  }
  throw new ScfGracefulError('SCFG_ERR_EMULATOR_DATA_CORRUPT', `could not read or create the console token file ${path}`)
}

/** A new file exclusively; an existing but malformed one is overwritten. */
function attemptFlags(path: string): string {
  try {
    statSync(path)
    return 'w'
  } catch {
    return 'wx'
  }
}
