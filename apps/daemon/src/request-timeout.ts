import type { MiddlewareHandler } from 'hono'
import { problem, problemResponse } from './problem.js'

/** Default time a request may take before vtld answers `E_TIMEOUT` (30 s). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

/**
 * Hono middleware: a request whose handler has not answered within `ms` gets a problem+json
 * `E_TIMEOUT`. The handler is not cancelled (a queued TD command still runs, and is journaled, in
 * order); only the client stops waiting. A streamed answer (SSE) counts as answered once its
 * headers are ready.
 */
export function requestTimeout(ms: number): MiddlewareHandler {
  return async (c, next) => {
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(resolve, ms, 'expired')
    })
    const handled = next()
    // A handler that fails after the deadline must not become an unhandled rejection.
    handled.catch(() => undefined)
    try {
      if ((await Promise.race([handled, expired])) === 'expired') {
        return problemResponse(
          problem('E_TIMEOUT', `${c.req.method} ${c.req.path} took longer than ${ms} ms`)
        )
      }
      return undefined
    } finally {
      clearTimeout(timer)
    }
  }
}
