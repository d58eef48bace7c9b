import { VtlError } from '../errors/vtl-error.js'

/** 2^64 − 1: every register and field word of the TDX ABI is an unsigned 64-bit value. */
export const U64_MAX = 0xffff_ffff_ffff_ffffn

/** Throws `E_FIELD_RANGE` unless `value` fits an unsigned 64-bit register. */
export function checkU64(value: bigint, field: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
    throw new VtlError('E_FIELD_RANGE', `${field} must be an unsigned 64-bit bigint`, { field })
  }
}

/** Throws `E_FIELD_RANGE` unless `value` is an integer in [min, max]. */
export function checkInt(value: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new VtlError(
      'E_FIELD_RANGE',
      `${field} must be an integer in [${min}, ${max}], got ${String(value)}`,
      { field }
    )
  }
}

/** Throws `E_RESERVED_BITS` when `value` has any bit of `reserved` set. */
export function checkReserved(value: bigint, reserved: bigint, field: string): void {
  const set = value & reserved
  if (set !== 0n) {
    throw new VtlError('E_RESERVED_BITS', `${field} has reserved bits set: 0x${set.toString(16)}`, {
      field,
    })
  }
}

/** `0x` + 16 hex digits, for messages. */
export function hex64(value: bigint): string {
  return `0x${value.toString(16).padStart(16, '0')}`
}

/** Throws `E_FIELD_RANGE` unless `value` is a bigint in [0, 2^bits). */
export function checkUBits(value: bigint, bits: number, field: string): void {
  if (typeof value !== 'bigint' || value < 0n || value >= 1n << BigInt(bits)) {
    throw new VtlError('E_FIELD_RANGE', `${field} must be an unsigned ${bits}-bit bigint`, {
      field,
    })
  }
}
