/**
 * Validation of API 3.0 request parameters, with the error codes the real service answers: wrong type ->
 * `InvalidParameter`, missing -> `MissingParameter`, unexpected -> `UnknownParameter`, a bad value ->
 * `InvalidParameterValue[.Name]`.
 */

/** An error as the Tencent Cloud API reports it (`Response.Error.{Code,Message}`). */
export class ApiError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'ApiError'
    this.code = code
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
