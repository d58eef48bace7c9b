import { describe, expect, it } from 'vitest'
import { DaemonProblemError, problemExitCode, problemFromAnswer } from './daemon-problem.js'
import { ExitCode, exitCodeOf, formatError } from './errors.js'

describe('daemon problems as vtl errors', () => {
  it.each([
    [400, 'E_VALIDATION', ExitCode.BadInput],
    [400, 'E_BAD_VP', ExitCode.BadInput],
    [404, 'E_NO_TD', ExitCode.BadInput],
    [404, 'E_NOT_FOUND', ExitCode.BadInput],
    [413, 'E_BODY_TOO_LARGE', ExitCode.BadInput],
    [415, 'E_UNSUPPORTED_MEDIA', ExitCode.BadInput],
    [422, 'E_IDEMPOTENCY_MISMATCH', ExitCode.BadInput],
    [409, 'E_VTL_MISMATCH', ExitCode.Failed],
    [409, 'E_TD_FAILED', ExitCode.Failed],
    [409, 'E_TD_EXISTS', ExitCode.Failed],
    [401, 'E_UNAUTHORIZED', ExitCode.Failed],
    [403, 'E_FORBIDDEN', ExitCode.Failed],
    [500, 'E_INTERNAL', ExitCode.Failed],
    [503, 'E_SHUTTING_DOWN', ExitCode.Failed],
  ])('HTTP %i %s exits %i', (status, code, exit) => {
    expect(problemExitCode(status)).toBe(exit)
    const error = problemFromAnswer(status, { status, code, detail: 'd', title: 't', type: 'x' })
    expect(error).toBeInstanceOf(DaemonProblemError)
    expect(error.code).toBe(code)
    expect(exitCodeOf(error)).toBe(exit)
  })

  it('keeps code, detail and hvStatus and prints them in one line', () => {
    const error = problemFromAnswer(409, {
      type: 'urn:vtl:problem:E_VTL_MISMATCH',
      title: 'Conflict',
      status: 409,
      code: 'E_VTL_MISMATCH',
      detail: 'VP 0 is active in VTL0, not VTL1',
      hvStatus: 'InvalidVtlState',
    })
    expect(error).toMatchObject({
      code: 'E_VTL_MISMATCH',
      detail: 'VP 0 is active in VTL0, not VTL1',
      hvStatus: 'InvalidVtlState',
      status: 409,
    })
    expect(formatError(error)).toBe(
      'vtl: VP 0 is active in VTL0, not VTL1 (InvalidVtlState) [E_VTL_MISMATCH]'
    )
  })

  it('names the fields of a validation problem from its issues, at most three', () => {
    const issue = (path: (string | number)[], message: string) => ({ path, message })
    const body = {
      code: 'E_VALIDATION',
      detail: '✖ Too big\n  → at vps',
      issues: [issue(['vps'], 'Too big: expected number to be <=1024')],
    }
    expect(problemFromAnswer(400, body).detail).toBe('vps: Too big: expected number to be <=1024')
    const many = { ...body, issues: [1, 2, 3, 4, 5].map((i) => issue(['steps', i], 'bad')) }
    expect(problemFromAnswer(400, many).detail).toBe(
      'steps.1: bad; steps.2: bad; steps.3: bad (and 2 more)'
    )
  })

  it.each([
    [502, undefined, 'E_HTTP_502', 'vtld answered HTTP 502'],
    [500, 'oops', 'E_HTTP_500', 'vtld answered HTTP 500'],
    [404, { title: 'Not Found' }, 'E_HTTP_404', 'Not Found'],
    [400, { code: 7, detail: 'x' }, 'E_HTTP_400', 'x'],
  ])(
    'an answer %i without a problem document (%j) still gives a code',
    (status, body, code, detail) => {
      expect(problemFromAnswer(status, body)).toMatchObject({ code, detail })
    }
  )
})
