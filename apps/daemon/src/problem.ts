// RFC 9457 problem details with a stable `code`, and the single code → HTTP status table.

/** Stable error codes of the daemon's API. */
export type DaemonErrorCode =
  | 'E_BAD_REQUEST'
  | 'E_VALIDATION'
  | 'E_NOT_FOUND'
  | 'E_NO_TD'
  | 'E_BAD_VP'
  | 'E_BAD_TD'
  | 'E_TD_EXISTS'
  | 'E_BODY_TOO_LARGE'
  | 'E_SCENARIO'
  | 'E_UNSUPPORTED_MEDIA'
  | 'E_SHUTTING_DOWN'
  | 'E_INTERNAL'

/** The one place that maps an error code to an HTTP status. */
export const HTTP_STATUS: Readonly<
  Record<DaemonErrorCode, 400 | 404 | 409 | 413 | 415 | 500 | 503>
> = {
  E_BAD_REQUEST: 400,
  E_VALIDATION: 400,
  E_NOT_FOUND: 404,
  E_NO_TD: 404,
  E_BAD_VP: 400,
  E_BAD_TD: 400,
  E_TD_EXISTS: 409,
  E_BODY_TOO_LARGE: 413,
  E_SCENARIO: 400,
  E_UNSUPPORTED_MEDIA: 415,
  E_SHUTTING_DOWN: 503,
  E_INTERNAL: 500,
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
}

/** Thrown by handlers; turned into problem+json by the app's error handler. */
export class ProblemError extends Error {
  readonly code: DaemonErrorCode
  readonly extra: Pick<Problem, 'hvStatus' | 'issues'>

  constructor(
    code: DaemonErrorCode,
    detail: string,
    extra: Pick<Problem, 'hvStatus' | 'issues'> = {}
  ) {
    super(detail)
    this.name = 'ProblemError'
    this.code = code
    this.extra = extra
  }
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/** Builds the problem document for a code. */
export function problem(
  code: DaemonErrorCode,
  detail: string,
  extra: Pick<Problem, 'hvStatus' | 'issues'> = {}
): Problem {
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
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { 'content-type': 'application/problem+json' },
  })
}
