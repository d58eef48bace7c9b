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
  // One promise per request (no race of two): settled by the handler or by the timer.
  return (c, next) =>
    new Promise<Response | undefined>((resolve, reject) => {
      const timer = setTimeout(() => {
        resolve(
          problemResponse(
            problem('E_TIMEOUT', `${c.req.method} ${c.req.path} took longer than ${ms} ms`)
          )
        )
      }, ms)
      // A handler that fails after the deadline must not become an unhandled rejection: the
      // promise is settled already, so its `reject` does nothing.
      next().then(
        () => {
          clearTimeout(timer)
          resolve(undefined)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error as Error)
        }
      )
    })
}
