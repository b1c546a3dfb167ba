/**
 * Validation of API 3.0 request parameters, with the error codes the real service answers: wrong type ->
 * `InvalidParameter`, missing -> `MissingParameter`, unexpected -> `UnknownParameter`, a bad value ->
 * `InvalidParameterValue[.Name]`.
 */

import { ScfGracefulError } from '../errors.js'

/**
 * A request the emulator's API refuses, as the Tencent Cloud API reports it (`Response.Error.{Code,Message}`). It is
 * in the package's error family (`code` is SCFG_ERR_EMULATOR_API); `apiCode` is Tencent Cloud's own code
 * (`InvalidParameterValue.Limit`, `ResourceNotFound.Function`, ...): the one `Response.Error.Code` carries on the
 * wire, and the one SDK users branch on.
 */
export class ApiError extends ScfGracefulError {
  static override readonly brand: string = 'EmulatorApiError'
  /** Tencent Cloud's error code, sent as `Response.Error.Code`. */
  readonly apiCode: string
  constructor(apiCode: string, message: string) {
    super('SCFG_ERR_EMULATOR_API', message, { details: { apiCode } })
    this.name = 'ApiError'
    this.apiCode = apiCode
  }
}

type Kind = 'string' | 'integer' | 'boolean' | 'string[]' | 'interval'
export type ParamSpec = Record<string, { kind: Kind; required?: boolean }>

export interface TimeIntervalParam {
  Start: string
  End: string
}

/** Checks `params` against `spec`; returns them typed loosely. */
export function checkParams(params: unknown, spec: ParamSpec): Record<string, unknown> {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new ApiError('InvalidParameter', 'The request body must be a JSON object of parameters.')
  }
  const p = params as Record<string, unknown>
  for (const key of Object.keys(p)) {
    if (!Object.hasOwn(spec, key)) throw new ApiError('UnknownParameter', `The parameter \`${truncate(key)}\` is not recognized.`)
  }
  for (const [name, { kind, required }] of Object.entries(spec)) {
    const value = p[name]
    if (value === undefined || value === null) {
      if (required) throw new ApiError('MissingParameter', `The request is missing a required parameter \`${name}\`.`)
      continue
    }
    if (!hasKind(value, kind)) throw new ApiError('InvalidParameter', `The type of parameter \`${name}\` is wrong: expected ${describeKind(kind)}.`)
  }
  return p
}

/**
 * Types the flat string parameters of a query string or form body (`Status.0=RUNNING`,
 * `StartTimeInterval.Start=...`, `Limit=10`, `GraceShutdown=true`) by the action's spec. A value that does not read as
 * its kind stays a string, so checkParams reports it as the wrong type; unknown names stay for UnknownParameter.
 */
export function typeFlatParams(flat: Record<string, string>, spec: ParamSpec): Record<string, unknown> {
  // no prototype: a parameter named __proto__ is just an unknown parameter
  const out: Record<string, unknown> = Object.create(null)
  const lists = new Map<string, Array<[number, string]>>()
  for (const [key, value] of Object.entries(flat)) {
    const dot = key.indexOf('.')
    const name = dot < 0 ? key : key.slice(0, dot)
    const rest = dot < 0 ? undefined : key.slice(dot + 1)
    const kind = Object.hasOwn(spec, name) ? spec[name]!.kind : undefined
    if (kind === 'string[]' && rest !== undefined && /^\d{1,6}$/.test(rest)) {
      const list = lists.get(name) ?? []
      list.push([Number(rest), value])
      lists.set(name, list)
    } else if (kind === 'interval' && rest !== undefined) {
      const v = (out[name] ??= {}) as Record<string, string>
      if (typeof v === 'object') v[rest] = value
    } else if (kind === 'integer' && rest === undefined && /^-?\d{1,15}$/.test(value)) {
      out[key] = Number(value)
    } else if (kind === 'boolean' && rest === undefined && /^(true|false)$/i.test(value)) {
      out[key] = value.toLowerCase() === 'true'
    } else {
      out[key] = value
    }
  }
  for (const [name, list] of lists) out[name] = list.sort((a, b) => a[0] - b[0]).map(([, v]) => v)
  return out
}

function hasKind(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string'
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value)
    case 'boolean':
      return typeof value === 'boolean'
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string')
    case 'interval': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
      const v = value as Record<string, unknown>
      return Object.keys(v).every((k) => k === 'Start' || k === 'End') && typeof v.Start === 'string' && typeof v.End === 'string'
    }
  }
}

function describeKind(kind: Kind): string {
  return kind === 'string[]' ? 'Array of String' : kind === 'interval' ? 'TimeInterval {Start, End} of Strings' : kind === 'integer' ? 'Integer' : kind === 'boolean' ? 'Boolean' : 'String'
}

export function truncate(s: string, n = 64): string {
  return s.length > n ? `${s.slice(0, n)}…` : s
}

/** SCF's function name rule: 2-60 chars, letters, digits, `-` and `_`, starts with a letter, ends with a letter or digit. */
export const FUNCTION_NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$/
/** SCF's namespace rule: 1-30 chars of letters, digits, `-` and `_`. */
export const NAMESPACE_RE = /^[A-Za-z0-9_-]{1,30}$/
/** Versions are `$LATEST`, a number, or an alias name. */
export const QUALIFIER_RE = /^(\$LATEST|\$DEFAULT|[A-Za-z0-9_-]{1,64})$/
