import type { Env, MiddlewareHandler } from 'hono'
import { problem, problemResponse } from './problem.js'

// JSON nested thousands of levels deep parses, but every recursive walk after it (validation,
// encoding, cloning) can run out of stack: such bodies are refused up front (400), in one pass.

/** Deepest JSON nesting a request body may have (a snapshot document needs about 10). */
export const MAX_JSON_DEPTH = 64

/** Whether `text` nests arrays/objects deeper than `max` (strings skipped; no parsing). */
export function nestsDeeper(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (inString) {
      if (ch === 0x5c)
        i++ // backslash: skip the escaped character
      else if (ch === 0x22) inString = false
    } else if (ch === 0x22) inString = true
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return true
    } else if (ch === 0x5d || ch === 0x7d) depth--
  }
  return false
}

/** Hono middleware: a JSON body nested deeper than `MAX_JSON_DEPTH` → 400 `E_BAD_REQUEST`. */
export function jsonDepthLimit<E extends Env>(): MiddlewareHandler<E> {
  return async (c, next) => {
    const type = c.req.header('content-type') ?? ''
    if (c.req.raw.body === null || !type.includes('json')) return next()
    if (nestsDeeper(await c.req.text(), MAX_JSON_DEPTH)) {
      return problemResponse(
        problem('E_BAD_REQUEST', `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`)
      )
    }
    return next()
  }
}
