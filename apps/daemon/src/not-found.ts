import type { Context } from 'hono'
import { problem, problemResponse } from './problem.js'

// An unmatched request: 405 with `Allow` when its path is a route under other methods, else 404.

/** A registered route as hono lists it (`app.routes`). */
interface RouteEntry {
  method: string
  path: string
}

/** A route path (`/v1/tds/:id/status`) as a regular expression; undefined for middleware (`*`). */
function pattern(path: string): RegExp | undefined {
  if (path.includes('*')) return undefined
  const source = path
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('/')
  return new RegExp(`^${source}/?$`)
}

/** The answer to unmatched requests on an app whose routes are `routes()` (read on each miss). */
export function notFound(routes: () => readonly RouteEntry[]): (c: Context) => Response {
  let compiled: { method: string; match: RegExp }[] | undefined
  let seen = -1
  return (c) => {
    const list = routes()
    if (compiled === undefined || seen !== list.length) {
      seen = list.length
      compiled = list.flatMap((route) => {
        const match = pattern(route.path)
        return match === undefined || route.method === 'ALL'
          ? []
          : [{ method: route.method, match }]
      })
    }
    const { method, path } = c.req
    const allowed = new Set(compiled.filter((r) => r.match.test(path)).map((r) => r.method))
    if (allowed.size === 0 || allowed.has(method)) {
      return problemResponse(problem('E_NOT_FOUND', `no route ${method} ${path}`))
    }
    // HEAD is answered wherever GET is (hono's routing does so).
    if (allowed.has('GET')) allowed.add('HEAD')
    const allow = [...allowed].sort().join(', ')
    const response = problemResponse(
      problem('E_METHOD_NOT_ALLOWED', `${path} does not take ${method}; it takes ${allow}`)
    )
    response.headers.set('allow', allow)
    return response
  }
}
