/**
 * Credentials and region as Tencent's own tools take them, first match wins:
 *   1. flags: --secret-id / --secret-key / --token, --region
 *   2. TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY / TENCENTCLOUD_SESSION_TOKEN (tccli, the official SDKs)
 *   3. TENCENTCLOUD_SECRETID / TENCENTCLOUD_SECRETKEY / TENCENTCLOUD_SESSIONTOKEN (what the SCF runtime sets)
 *   4. a tccli profile: ~/.tccli/<profile>.credential ({"secretId", "secretKey", "token"}) and <profile>.configure
 *      ({"_sys_param": {"region"}}); the profile is --profile, else TCCLI_PROFILE, else "default"
 * Each field is taken from the first source that has it; a session token belongs to its key, so it comes from the
 * source the key came from (or --token).
 */
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { UsageError } from './errors.js'

export interface CredentialFlags {
  'secret-id'?: string | undefined
  'secret-key'?: string | undefined
  token?: string | undefined
  region?: string | undefined
  profile?: string | undefined
}

export interface Credentials {
  secretId: string
  secretKey: string
  sessionToken: string | undefined
  /** Where the key came from, for messages (never the key itself). */
  source: string
}

interface Source {
  name: string
  secretId?: string | undefined
  secretKey?: string | undefined
  token?: string | undefined
  region?: string | undefined
}

function readJson(file: string): Record<string, unknown> | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  try {
    const v = JSON.parse(text) as unknown
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON (${(err as Error).message})`)
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined)

/** The tccli profile's credential and region, if its files exist. */
export function profileSource(flags: CredentialFlags, env: NodeJS.ProcessEnv = process.env, home = homedir()): Source {
  const name = flags.profile ?? env.TCCLI_PROFILE ?? 'default'
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) throw new UsageError(`--profile must be a tccli profile name (letters, digits, . _ -), got "${name}"`)
  const dir = join(home, '.tccli')
  const credential = readJson(join(dir, `${name}.credential`))
  const configure = readJson(join(dir, `${name}.configure`))
  if (flags.profile !== undefined && !credential && !configure) {
    throw new UsageError(`no tccli profile "${name}": neither ${join(dir, `${name}.credential`)} nor ${join(dir, `${name}.configure`)} exists (tccli configure --profile ${name} creates them)`)
  }
  const sys = (configure?._sys_param ?? {}) as Record<string, unknown>
  return {
    name: `tccli profile "${name}"`,
    secretId: str(credential?.secretId),
    secretKey: str(credential?.secretKey),
    token: str(credential?.token),
    region: str(sys.region) ?? str(configure?.region),
  }
}

function sources(flags: CredentialFlags, env: NodeJS.ProcessEnv, home: string): Source[] {
  return [
    { name: 'the flags', secretId: flags['secret-id'], secretKey: flags['secret-key'], token: flags.token, region: flags.region },
    { name: 'TENCENTCLOUD_SECRET_ID/_KEY', secretId: env.TENCENTCLOUD_SECRET_ID, secretKey: env.TENCENTCLOUD_SECRET_KEY, token: env.TENCENTCLOUD_SESSION_TOKEN, region: env.TENCENTCLOUD_REGION },
    { name: 'TENCENTCLOUD_SECRETID/SECRETKEY (SCF runtime)', secretId: env.TENCENTCLOUD_SECRETID, secretKey: env.TENCENTCLOUD_SECRETKEY, token: env.TENCENTCLOUD_SESSIONTOKEN },
    profileSource(flags, env, home),
  ]
}

/** The credentials to sign with, or undefined when no source has both halves. */
export function resolveCredentials(flags: CredentialFlags, env: NodeJS.ProcessEnv = process.env, home = homedir()): Credentials | undefined {
  const all = sources(flags, env, home)
  const idFrom = all.find((s) => s.secretId)
  const keyFrom = all.find((s) => s.secretKey)
  if (!idFrom?.secretId || !keyFrom?.secretKey) return undefined
  return {
    secretId: idFrom.secretId,
    secretKey: keyFrom.secretKey,
    sessionToken: flags.token || keyFrom.token || undefined,
    source: idFrom === keyFrom ? idFrom.name : `${idFrom.name} + ${keyFrom.name}`,
  }
}

/** --region, TENCENTCLOUD_REGION, the profile's region; undefined if none. */
export function resolveRegion(flags: CredentialFlags, env: NodeJS.ProcessEnv = process.env, home = homedir()): string | undefined {
  return sources(flags, env, home).find((s) => s.region)?.region
}

export const credentialsHelp = `credentials, first found wins: --secret-id/--secret-key/--token; TENCENTCLOUD_SECRET_ID/
  TENCENTCLOUD_SECRET_KEY/TENCENTCLOUD_SESSION_TOKEN; TENCENTCLOUD_SECRETID/SECRETKEY/SESSIONTOKEN (SCF's runtime);
  the tccli profile ~/.tccli/<profile>.credential (--profile NAME, else TCCLI_PROFILE, else default).
  region: --region, TENCENTCLOUD_REGION, the profile's <profile>.configure.`
