import { VtlError, type VtlErrorCode } from '@vtl/core'

/** `uc_err` names by value (unicorn.h), the stable part of a `UnicornError`. */
export const UC_ERR_NAMES = [
  'UC_ERR_OK',
  'UC_ERR_NOMEM',
  'UC_ERR_ARCH',
  'UC_ERR_HANDLE',
  'UC_ERR_MODE',
  'UC_ERR_VERSION',
  'UC_ERR_READ_UNMAPPED',
  'UC_ERR_WRITE_UNMAPPED',
  'UC_ERR_FETCH_UNMAPPED',
  'UC_ERR_HOOK',
  'UC_ERR_INSN_INVALID',
  'UC_ERR_MAP',
  'UC_ERR_WRITE_PROT',
  'UC_ERR_READ_PROT',
  'UC_ERR_FETCH_PROT',
  'UC_ERR_ARG',
  'UC_ERR_READ_UNALIGNED',
  'UC_ERR_WRITE_UNALIGNED',
  'UC_ERR_FETCH_UNALIGNED',
  'UC_ERR_HOOK_EXIST',
  'UC_ERR_RESOURCE',
  'UC_ERR_EXCEPTION',
] as const

export type UcErrName = (typeof UC_ERR_NAMES)[number] | 'UC_ERR_UNKNOWN'

export function ucErrName(err: number): UcErrName {
  return UC_ERR_NAMES[err] ?? 'UC_ERR_UNKNOWN'
}

// A refused argument is the caller's mistake; everything else is the engine failing.
const ARGUMENT_ERRORS: ReadonlySet<UcErrName> = new Set([
  'UC_ERR_ARCH',
  'UC_ERR_MODE',
  'UC_ERR_HOOK',
  'UC_ERR_MAP',
  'UC_ERR_ARG',
  'UC_ERR_HOOK_EXIST',
])

/**
 * A libunicorn call that failed: `code` is `E_INVALID_VALUE` for a refused argument (a bad
 * mapping, hook or register) and `E_INTERNAL` otherwise; `ucErr`/`ucErrName` name the `uc_err`,
 * `call` the function. A missing library is a plain `VtlError` with `E_UNSUPPORTED`.
 */
export class UnicornError extends VtlError {
  readonly ucErr: number
  readonly ucErrName: UcErrName
  readonly call: string

  constructor(call: string, ucErr: number, description: string) {
    const name = ucErrName(ucErr)
    const code: VtlErrorCode = ARGUMENT_ERRORS.has(name) ? 'E_INVALID_VALUE' : 'E_INTERNAL'
    super(code, `${call}: ${name} (${description})`)
    this.name = 'UnicornError'
    this.ucErr = ucErr
    this.ucErrName = name
    this.call = call
  }
}
