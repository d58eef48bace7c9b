/**
 * Stable error codes for everything that is not a guest-visible hypercall outcome (those are
 * `HvStatus` values). Extend the union; never rename a member: callers switch on it.
 */
export type VtlErrorCode =
  | 'E_DECODE_LENGTH'
  | 'E_RESERVED_BITS'
  | 'E_FIELD_RANGE'
  | 'E_UNALIGNED'
  | 'E_RANGE_EMPTY'
  | 'E_RANGE_REVERSED'
  | 'E_RANGE_OVERFLOW'
  | 'E_BEYOND_GPA_WIDTH'
  | 'E_NOT_RAM'
  | 'E_OVERLAP'
  | 'E_ALREADY_ACCEPTED'
  | 'E_UNSORTED'
  | 'E_DUPLICATE'
  | 'E_INVALID_VALUE'
  | 'E_UNKNOWN_NAME'
  | 'E_HV_STATUS'
  | 'E_TDX_STATUS'
  | 'E_PORT'
  | 'E_INVARIANT'
  | 'E_IOCTL'
  | 'E_SCENARIO'
  | 'E_UNSUPPORTED'
  | 'E_INTERNAL'

// A registry-wide symbol so that two installed copies of @vtl/core recognise each other's errors.
const marker = Symbol.for('vtl.error')

export interface VtlErrorOptions {
  cause?: unknown
  /** The field, register or argument the error is about, e.g. `EnableVpVtlX64.target_vtl`. */
  field?: string
}

/** The base of every error @vtl throws. Check with `VtlError.isInstance`, not `instanceof`. */
export class VtlError extends Error {
  readonly [marker] = true
  readonly code: VtlErrorCode
  readonly field: string | undefined

  constructor(code: VtlErrorCode, message: string, options: VtlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'VtlError'
    this.code = code
    this.field = options.field
  }

  static isInstance(value: unknown): value is VtlError {
    return typeof value === 'object' && value !== null && marker in value
  }
}

/** Turns any thrown value into a `VtlError`, keeping the original as `cause` (tRPC's normaliser). */
export function toVtlError(value: unknown): VtlError {
  if (VtlError.isInstance(value)) return value
  const message = value instanceof Error ? value.message : String(value)
  return new VtlError('E_INTERNAL', message, { cause: value })
}
