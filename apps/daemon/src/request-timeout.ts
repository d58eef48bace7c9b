import type { MiddlewareHandler } from 'hono'
import { problem, problemResponse } from './problem.js'

/** Default time a request may take before vtld answers `E_TIMEOUT` (30 s). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

const TIMED_OUT = 'timed out'
const ANSWERED = 'answered'
type Outcome = typeof TIMED_OUT | typeof ANSWERED | { error: unknown }

/**
 * Hono middleware: a request whose handler has not answered within `ms` gets a problem+json
 * `E_TIMEOUT`. The handler is not cancelled (a queued TD command still runs, and is journaled, in
 * order); only the client stops waiting. A streamed answer (SSE) counts as answered once its
 * headers are ready.
 */
export function requestTimeout(ms: number): MiddlewareHandler {
  // Settled by the handler or by the timer, whichever is first (no race of two promises, no
  // async frame); a handler that fails after the deadline must not become an unhandled
  // rejection: its failure is taken as an outcome, and dropped once the timer answered.
  return (c, next) =>
    new Promise<Outcome>((resolve) => {
      const timer = setTimeout(resolve, ms, TIMED_OUT)
      next().then(
        () => {
          clearTimeout(timer)
          resolve(ANSWERED)
        },
        (error: unknown) => {
          clearTimeout(timer)
          resolve({ error })
        }
      )
    }).then((outcome) => {
      if (outcome === TIMED_OUT) {
        return problemResponse(
          problem('E_TIMEOUT', `${c.req.method} ${c.req.path} took longer than ${ms} ms`)
        )
      }
      if (outcome !== ANSWERED) throw outcome.error
      return undefined
    })
}
