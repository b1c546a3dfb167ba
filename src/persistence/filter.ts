// include / exclude: glob patterns matched against the path relative to root ('/'-separated), or a function.
import { invalidOption } from '../errors.js'

/** A glob (`*` within a segment, `**` across segments, `?` one character), a RegExp, or a predicate. */
export type PathPattern = string | RegExp
export type PathFilter = PathPattern | readonly PathPattern[] | ((relativePath: string) => boolean)

export type PathPredicate = (relativePath: string) => boolean

/** Turns a glob into a RegExp. A pattern without '/' matches a basename at any depth (like .gitignore). */
export function globToRegExp(glob: string): RegExp {
  const anchored = glob.includes('/') ? glob.replace(/^\//, '') : `**/${glob}`
  let out = ''
  for (let i = 0; i < anchored.length; i++) {
    const ch = anchored[i]!
    if (ch === '*') {
      if (anchored[i + 1] === '*') {
        // '**/' = zero or more whole segments; a trailing '**' = anything
        if (anchored[i + 2] === '/') {
          out += '(?:.*/)?'
          i += 2
        } else {
          out += '.*'
          i += 1
        }
      } else out += '[^/]*'
    } else if (ch === '?') out += '[^/]'
    else out += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${out.replace(/\/$/, '')}$`)
}

export function compileFilter(name: string, filter: PathFilter | undefined): PathPredicate | undefined {
  if (filter === undefined) return undefined
  if (typeof filter === 'function') return filter as PathPredicate
  const list = (Array.isArray(filter) ? filter : [filter]) as unknown[]
  const tests = list.map((p) => {
    if (typeof p === 'string' && p.length > 0) return globToRegExp(p)
    if (p instanceof RegExp) return p
    throw invalidOption(name, filter, 'a glob string, a RegExp, an array of them, or a function (relativePath) => boolean')
  })
  return (path) => tests.some((re) => re.test(path))
}
