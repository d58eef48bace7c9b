import { CliError, ExitCode } from './errors.js'

// `vtld`'s RFC 9457 problem answers as `vtl` errors: the daemon's stable `code`, its `detail` and
// the guest-visible `hvStatus` stay on the error; the HTTP status picks the exit code.

/** A problem+json answer of `vtld`. */
export class DaemonProblemError extends CliError {
  readonly status: number
  readonly detail: string
  readonly hvStatus: string | undefined

  constructor(status: number, code: string, detail: string, hvStatus?: string) {
    super(
      code,
      `${detail}${hvStatus === undefined ? '' : ` (${hvStatus})`} [${code}]`,
      problemExitCode(status)
    )
    this.name = 'DaemonProblemError'
    this.status = status
    this.detail = detail
    this.hvStatus = hvStatus
  }
}

/**
 * Input the daemon refused is bad input (exit 2): a malformed or invalid body, an unknown TD or
 * route, a body too large or of the wrong type, an idempotency key reused for another request.
 * Conflicts (409: a VTL mismatch, a failed TD, a duplicate name), authentication and the
 * daemon's own failures are a failed operation (exit 1).
 */
export function problemExitCode(status: number): ExitCode {
  return [400, 404, 413, 415, 422].includes(status) ? ExitCode.BadInput : ExitCode.Failed
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

/**
 * A validation problem's `issues` (zod's: `path`, `message`) as one line naming each field, e.g.
 * `vps: Too big: expected number to be <=1024`; undefined when there are none.
 */
function issuesText(issues: unknown): string | undefined {
  if (!Array.isArray(issues) || issues.length === 0) return undefined
  const shown = issues
    .slice(0, MAX_ISSUES)
    .map((issue: unknown) => {
      const i =
        typeof issue === 'object' && issue !== null ? (issue as Record<string, unknown>) : {}
      const path = Array.isArray(i.path) ? i.path.map(String).join('.') : ''
      const message = text(i.message) ?? 'invalid'
      return path === '' ? message : `${path}: ${message}`
    })
    .join('; ')
  const more = issues.length - MAX_ISSUES
  return more > 0 ? `${shown} (and ${more} more)` : shown
}

/** Issues a message lists before `(and N more)`. */
const MAX_ISSUES = 3

/** The error for a non-2xx answer: its problem document, or the bare status when there is none. */
export function problemFromAnswer(status: number, body: unknown): DaemonProblemError {
  const doc = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}
  return new DaemonProblemError(
    status,
    text(doc.code) ?? `E_HTTP_${status}`,
    issuesText(doc.issues) ?? text(doc.detail) ?? text(doc.title) ?? `vtld answered HTTP ${status}`,
    text(doc.hvStatus)
  )
}
