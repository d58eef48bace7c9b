import { VtlError } from '../errors/vtl-error.js'

/** TD guest physical address width: 48 (GPAW = 0) or 52 (GPAW = 1). */
export type GpaWidth = 48 | 52

/** The shared ("decrypted") bit: 47 for GPAW 48, 51 for GPAW 52 (abi.md §3.5). */
export function sharedBitIndex(width: GpaWidth): 47 | 51 {
  return width === 48 ? 47 : 51
}

export function sharedBit(width: GpaWidth): bigint {
  return 1n << BigInt(sharedBitIndex(width))
}

export function assertGpaWidth(width: number): asserts width is GpaWidth {
  if (width !== 48 && width !== 52) {
    throw new VtlError('E_FIELD_RANGE', `GPA width must be 48 or 52, got ${width}`, {
      field: 'gpaWidth',
    })
  }
}

/**
 * Splits a guest address into its canonical GPA and whether it used the shared alias
 * (`check_mem_fault`: `is_shared = gpa & vtom == vtom`, canonical = `gpa & !vtom`). Addresses at or
 * above `1 << width` are rejected with `E_BEYOND_GPA_WIDTH`.
 */
export function classifyGpa(gpa: bigint, width: GpaWidth): { canonical: bigint; shared: boolean } {
  if (gpa < 0n || gpa >= 1n << BigInt(width)) {
    throw new VtlError(
      'E_BEYOND_GPA_WIDTH',
      `GPA 0x${gpa.toString(16)} is beyond the ${width}-bit guest physical address width`,
      { field: 'gpa' }
    )
  }
  const bit = sharedBit(width)
  return { canonical: gpa & ~bit, shared: (gpa & bit) !== 0n }
}
