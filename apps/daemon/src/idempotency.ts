import { createHash } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { IdempotentAnswer } from './journal.js'
import { problem, problemResponse } from './problem.js'

// Idempotency-Key on mutating requests: a retry with the same key and the same method, path,
// query and body gets the first answer again without the command running twice; the same key on
// another request is 422. The answer is stored by the service in the transaction that journals
// the command (so a crash never keeps one without the other); requests that journal nothing keep
// nothing and simply run again.

/** What a handler passes to the service so it can store the answer. */
export interface IdempotencyRequest {
  key: string
  fingerprint: string
}

export interface IdempotencyEnv {
  Variables: { idempotency: IdempotencyRequest | undefined }
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const KEY = /^[\x21-\x7e]{1,255}$/

/** The stored answer as a response (`idempotent-replayed: true`). */
function replay(answer: IdempotentAnswer): Response {
  if (answer.dropped !== undefined) {
    // The command ran once and is not run again; only its answer is gone.
    const response = problemResponse(
      problem(
        'E_ANSWER_NOT_KEPT',
        `the request with Idempotency-Key ${answer.key} already ran (answered ${answer.status}); ` +
          `its answer (${answer.dropped} bytes) was too large to keep: read the TD's state instead`
      )
    )
    response.headers.set('idempotent-replayed', 'true')
    return response
  }
  const headers: Record<string, string> = { 'idempotent-replayed': 'true' }
  if (answer.status !== 204) {
    headers['content-type'] = answer.status >= 400 ? 'application/problem+json' : 'application/json'
  }
  return new Response(answer.status === 204 ? null : answer.body, {
    status: answer.status,
    headers,
  })
}

/** A JSON body without its whitespace (the same request however it is laid out); else as sent. */
function canonical(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body))
  } catch {
    return body
  }
}

export function idempotency(
  lookup: (key: string) => Promise<IdempotentAnswer | undefined>
): MiddlewareHandler<IdempotencyEnv> {
  // Requests holding a key until they answered: a concurrent retry waits, then replays.
  const inflight = new Map<string, Promise<void>>()
  return async (c, next) => {
    const key = c.req.header('idempotency-key')
    if (key === undefined || !MUTATING.has(c.req.method)) return next()
    if (!KEY.test(key)) {
      return problemResponse(
        problem('E_BAD_REQUEST', 'Idempotency-Key must be 1 to 255 visible ASCII characters')
      )
    }
    const url = new URL(c.req.url)
    const fingerprint = createHash('sha256')
      .update(`${c.req.method} ${url.pathname}${url.search}\n${canonical(await c.req.text())}`)
      .digest('hex')
    for (let busy = inflight.get(key); busy !== undefined; busy = inflight.get(key)) await busy
    // Held from before the lookup (it waits for durability) until this request answered.
    let release: () => void = () => undefined
    inflight.set(
      key,
      new Promise<void>((resolve) => {
        release = resolve
      })
    )
    try {
      const stored = await lookup(key)
      if (stored !== undefined) {
        if (stored.fingerprint !== fingerprint) {
          return problemResponse(
            problem(
              'E_IDEMPOTENCY_MISMATCH',
              `Idempotency-Key ${key} was used for a different request (method, path or body)`
            )
          )
        }
        return replay(stored)
      }
      c.set('idempotency', { key, fingerprint })
      await next()
    } finally {
      inflight.delete(key)
      release()
    }
  }
}
