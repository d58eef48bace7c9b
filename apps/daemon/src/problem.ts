// RFC 9457 problem details with a stable `code`, and the single code → HTTP status table.

/** Stable error codes of the daemon's API. */
export type DaemonErrorCode =
  | 'E_BAD_REQUEST'
  | 'E_VALIDATION'
  | 'E_NOT_FOUND'
  | 'E_METHOD_NOT_ALLOWED'
  | 'E_NO_TD'
  | 'E_BAD_VP'
  | 'E_BAD_TD'
  | 'E_TD_EXISTS'
  | 'E_BODY_TOO_LARGE'
  | 'E_SCENARIO'
  | 'E_UNSUPPORTED_MEDIA'
  | 'E_SHUTTING_DOWN'
  | 'E_INTERNAL'
  | 'E_VTL_MISMATCH'
  | 'E_TD_FAILED'
  | 'E_IDEMPOTENCY_MISMATCH'
  | 'E_ANSWER_NOT_KEPT'
  | 'E_UNAUTHORIZED'
  | 'E_FORBIDDEN'
  | 'E_TIMEOUT'
  | 'E_BAD_SNAPSHOT'
  | 'E_BAD_RANGE'
  | 'E_MEMORY_STATE'
  | 'E_PARAVISOR_PANIC'
  | 'E_LIMIT'
  | 'E_TOO_COSTLY'
  | 'E_BUSY'
  | 'E_UNSUPPORTED'

/** The one place that maps an error code to an HTTP status. */
export const HTTP_STATUS: Readonly<
  Record<DaemonErrorCode, 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500 | 503>
> = {
  E_BAD_REQUEST: 400,
  E_VALIDATION: 400,
  E_NOT_FOUND: 404,
  /** The path is a route, but not for this method (the answer's `Allow` lists those it takes). */
  E_METHOD_NOT_ALLOWED: 405,
  E_NO_TD: 404,
  E_BAD_VP: 400,
  E_BAD_TD: 400,
  E_TD_EXISTS: 409,
  E_BODY_TOO_LARGE: 413,
  E_SCENARIO: 400,
  E_UNSUPPORTED_MEDIA: 415,
  E_SHUTTING_DOWN: 503,
  E_INTERNAL: 500,
  /** A request's `vtl` assertion did not hold (the VP acts at the other VTL). */
  E_VTL_MISMATCH: 409,
  /** The TD failed (a journal write after a command, or a paravisor panic): it only answers reads. */
  E_TD_FAILED: 409,
  /** An Idempotency-Key reused with a different method, path or body. */
  E_IDEMPOTENCY_MISMATCH: 422,
  /** A retry of a command that ran, whose answer was too large to keep for its Idempotency-Key. */
  E_ANSWER_NOT_KEPT: 409,
  E_UNAUTHORIZED: 401,
  E_FORBIDDEN: 403,
  /** The request did not finish in time (the daemon's own limit, not a gateway's). */
  E_TIMEOUT: 503,
  /** A snapshot document the simulator cannot restore. */
  E_BAD_SNAPSHOT: 400,
  /** A GPA range outside the TD's RAM, or not 4 KiB aligned. */
  E_BAD_RANGE: 400,
  /** Memory not in the state the operation needs (e.g. accepting an accepted page). */
  E_MEMORY_STATE: 409,
  /** The simulated paravisor panicked where OpenHCL would (a typed VtlError): the TD failed. */
  E_PARAVISOR_PANIC: 500,
  /** The daemon holds as many TDs, VPs or bytes of guest RAM as its limits allow. */
  E_LIMIT: 409,
  /** One request asks for more work than `maxRequestCost` (refused before any of it runs). */
  E_TOO_COSTLY: 413,
  /** The scenario queue is full: every worker busy and `maxQueue` runs waiting. */
  E_BUSY: 429,
  /** The TD's backend has no such thing (a hardware-path TD has no snapshot). */
  E_UNSUPPORTED: 409,
}

/** An RFC 9457 problem document as the daemon sends it. */
export interface Problem {
  type: string
  title: string
  status: number
  code: DaemonErrorCode
  detail: string
  hvStatus?: string
  issues?: unknown
  /** The input field at fault (a snapshot document's path, e.g. `vps[0].exitVtl`). */
  field?: string
}

/** What a problem carries besides its code and detail. */
export type ProblemExtra = Pick<Problem, 'hvStatus' | 'issues' | 'field'>

/** Thrown by handlers; turned into problem+json by the app's error handler. */
export class ProblemError extends Error {
  readonly code: DaemonErrorCode
  readonly extra: ProblemExtra

  constructor(code: DaemonErrorCode, detail: string, extra: ProblemExtra = {}) {
    super(detail)
    this.name = 'ProblemError'
    this.code = code
    this.extra = extra
  }
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/** Builds the problem document for a code. */
export function problem(code: DaemonErrorCode, detail: string, extra: ProblemExtra = {}): Problem {
  const status = HTTP_STATUS[code]
  return {
    type: `urn:vtl:problem:${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail,
    ...extra,
  }
}

/** A problem+json response. */
export function problemResponse(body: Problem): Response {
  // zod issues can carry bigint bounds (a 64-bit maximum): hex, like every 64-bit value.
  const text = JSON.stringify(body, (_key, v: unknown) =>
    typeof v === 'bigint' ? `0x${v.toString(16)}` : v
  )
  return new Response(text, {
    status: body.status,
    headers: { 'content-type': 'application/problem+json' },
  })
}
