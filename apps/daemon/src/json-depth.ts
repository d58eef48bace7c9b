import type { Env, MiddlewareHandler } from 'hono'
import { problem, problemResponse } from './problem.js'
import { TimeSlice } from './time-slice.js'

// JSON nested thousands of levels deep parses, but every recursive walk after it (validation,
// encoding, cloning) can run out of stack: such bodies are refused up front (400), in one pass.

/** Deepest JSON nesting a request body may have (a snapshot document needs about 10). */
export const MAX_JSON_DEPTH = 64

/** Characters scanned between two looks at the time slice. */
const SCAN_CHUNK = 1 << 16

/**
 * Whether `text` nests arrays/objects deeper than `max` (strings skipped; no parsing). A body of
 * megabytes (a snapshot) is scanned in slices: the event loop gets turns meanwhile.
 */
export async function nestsDeeper(
  text: string,
  max: number,
  slice = new TimeSlice()
): Promise<boolean> {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    if (i % SCAN_CHUNK === 0) {
      const pause = slice.due()
      if (pause !== undefined) await pause
    }
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
    // The body is read through `c.req.text()` (the node adapter's fast path, cached for the
    // validator); `c.req.raw.body` would build a full Request. No body reads as ''.
    const type = c.req.header('content-type') ?? ''
    if (!type.includes('json')) return next()
    if (await nestsDeeper(await c.req.text(), MAX_JSON_DEPTH)) {
      return problemResponse(
        problem('E_BAD_REQUEST', `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`)
      )
    }
    return next()
  }
}
