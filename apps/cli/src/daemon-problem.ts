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

/** The error for a non-2xx answer: its problem document, or the bare status when there is none. */
export function problemFromAnswer(status: number, body: unknown): DaemonProblemError {
  const doc = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}
  return new DaemonProblemError(
    status,
    text(doc.code) ?? `E_HTTP_${status}`,
    text(doc.detail) ?? text(doc.title) ?? `vtld answered HTTP ${status}`,
    text(doc.hvStatus)
  )
}
