import { VtlError } from '../errors/vtl-error.js'

// Shared helpers of the hv byte codecs. Not part of the public barrel: the codecs are.

export const U64_MAX = 0xffff_ffff_ffff_ffffn
export const U128_MAX = (1n << 128n) - 1n

/** A DataView over exactly the bytes of `bytes` (which may be a window into a larger buffer). */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Rejects input of the wrong size before any DataView access can raise a RangeError. */
export function expectLength(bytes: Uint8Array, expected: number, field: string): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new VtlError('E_DECODE_LENGTH', `${field}: expected a Uint8Array`, { field })
  }
  if (bytes.byteLength !== expected) {
    throw new VtlError(
      'E_DECODE_LENGTH',
      `${field} is ${expected} bytes, got ${bytes.byteLength}`,
      { field }
    )
  }
}

/** For the header of a rep input: at least `size` bytes (the elements follow). */
export function expectAtLeast(bytes: Uint8Array, size: number, field: string): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new VtlError('E_DECODE_LENGTH', `${field}: expected a Uint8Array`, { field })
  }
  if (bytes.byteLength < size) {
    throw new VtlError(
      'E_DECODE_LENGTH',
      `${field} header is ${size} bytes, got ${bytes.byteLength}`,
      { field }
    )
  }
}

/** Like `expectLength` for readers that take a view and an offset into it. */
export function expectRoom(view: DataView, offset: number, size: number, field: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + size > view.byteLength) {
    throw new VtlError(
      'E_DECODE_LENGTH',
      `${field} needs ${size} bytes at offset ${String(offset)}, the view has ${view.byteLength}`,
      { field }
    )
  }
}

// The checks below take the field name in two parts (`field`, `sub`) and join them only when they
// throw: they run on every encode, and building names eagerly would allocate a string per field.

function fieldName(field: string, sub: string | undefined): string {
  return sub === undefined ? field : `${field}.${sub}`
}

export function checkUint(value: number, bits: number, field: string, sub?: string): void {
  // `bits` ≤ 32 here; wider values are bigints.
  if (!Number.isInteger(value) || value < 0 || value > 2 ** bits - 1) {
    const name = fieldName(field, sub)
    throw new VtlError('E_FIELD_RANGE', `${name} must be an unsigned ${bits}-bit integer`, {
      field: name,
    })
  }
}

export function checkU64(value: bigint, field: string, sub?: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
    const name = fieldName(field, sub)
    throw new VtlError('E_FIELD_RANGE', `${name} must be an unsigned 64-bit bigint`, {
      field: name,
    })
  }
}

export function checkU128(value: bigint, field: string, sub?: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > U128_MAX) {
    const name = fieldName(field, sub)
    throw new VtlError('E_FIELD_RANGE', `${name} must be an unsigned 128-bit bigint`, {
      field: name,
    })
  }
}

export function checkBool(value: boolean, field: string, sub?: string): void {
  if (typeof value !== 'boolean') {
    const name = fieldName(field, sub)
    throw new VtlError('E_FIELD_RANGE', `${name} must be a boolean`, { field: name })
  }
}

/** For runtime guards on values whose static type already says "object" (JSON, JS callers). */
export function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null
}

/** Guards property reads on values that came from untyped callers (JSON, JS). */
export function checkObject(value: unknown, field: string, sub?: string): void {
  if (typeof value !== 'object' || value === null) {
    const name = fieldName(field, sub)
    throw new VtlError('E_FIELD_RANGE', `${name} must be an object`, { field: name })
  }
}

/** The three reserved bytes that follow a u8 at `offset`, as one little-endian 24-bit number. */
export function readU24(view: DataView, offset: number): number {
  return view.getUint8(offset) | (view.getUint16(offset + 1, true) << 8)
}

export function writeU24(view: DataView, offset: number, value: number): void {
  view.setUint8(offset, value & 0xff)
  view.setUint16(offset + 1, value >>> 8, true)
}

/** BigInt(n) for every byte value, made once. */
const BYTE_BIGINTS: readonly bigint[] = Array.from({ length: 256 }, (_, n) => BigInt(n))
/**
 * The larger values `smallBigInt` has made, up to a bound. The table is process-wide: when full it
 * is emptied and starts again, so values seen long ago cannot keep sharing off for good.
 */
const smallBigInts = new Map<number, bigint>()
export const SMALL_BIGINTS_KEPT = 4096

/**
 * `BigInt(n)` for an integer 0 ≤ n < 2^17 (selectors, limits, attributes, flags), one shared
 * bigint per value: thousands of decoded contexts and register writes then allocate none.
 */
export function smallBigInt(n: number): bigint {
  if (n < 256) return BYTE_BIGINTS[n] as bigint
  let value = smallBigInts.get(n)
  if (value === undefined) {
    value = BigInt(n)
    if (smallBigInts.size === SMALL_BIGINTS_KEPT) smallBigInts.clear()
    smallBigInts.set(n, value)
  }
  return value
}

/** How many larger values `smallBigInt` holds now (a bigint's identity cannot be observed). */
export function smallBigIntsHeld(): number {
  return smallBigInts.size
}

/**
 * A little-endian u64 at `offset`, as `getBigUint64` reads it, but a value below 2^16 (most
 * segment bases, limits and flags of a decoded context) is a shared bigint (`smallBigInt`).
 */
export function readU64(view: DataView, offset: number): bigint {
  const low = view.getUint32(offset, true)
  if (low < 0x1_0000 && view.getUint32(offset + 4, true) === 0) return smallBigInt(low)
  return view.getBigUint64(offset, true)
}

export function writeU128(view: DataView, offset: number, value: bigint): void {
  view.setBigUint64(offset, value & U64_MAX, true)
  view.setBigUint64(offset + 8, value >> 64n, true)
}

export function readU128(view: DataView, offset: number): bigint {
  return view.getBigUint64(offset, true) | (view.getBigUint64(offset + 8, true) << 64n)
}

/** The canonical text of a number: lower-case `0x` hex (the wire form of 64-bit values). */
export function formatHex(value: bigint | number): string {
  return `0x${value.toString(16)}`
}
