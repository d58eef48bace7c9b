import { sharedBit, VtlError, type GpaWidth } from '@vtl/core'

/** A guest-physical byte range, `end` exclusive, or `start` plus `size` bytes. 4 KiB aligned. */
export type GpaRange = { start: bigint; end: bigint } | { start: bigint; size: bigint }

const U64_LIMIT = 1n << 64n

/**
 * Checks a typed-API range and turns it into canonical page numbers `[start, end)`. The shared
 * alias is accepted and mapped to the canonical pages (a range may not straddle the shared bit).
 * Bad input throws a `VtlError` whose `field` names the argument; nothing is changed by then.
 */
export function toPageRange(range: GpaRange, width: GpaWidth, field: string): [number, number] {
  const start = range.start
  let end: bigint
  if ('size' in range) {
    if (range.size < 0n) {
      throw new VtlError('E_FIELD_RANGE', `${field}.size is negative`, { field: `${field}.size` })
    }
    end = start + range.size
    if (end >= U64_LIMIT) {
      throw new VtlError('E_RANGE_OVERFLOW', `${field}: start + size overflows 64 bits`, {
        field: `${field}.size`,
      })
    }
  } else {
    end = range.end
  }
  if (start < 0n) {
    throw new VtlError('E_FIELD_RANGE', `${field}.start is negative`, { field: `${field}.start` })
  }
  if (end < start) {
    throw new VtlError('E_RANGE_REVERSED', `${field}: end is below start`, {
      field: `${field}.end`,
    })
  }
  if (end === start) {
    throw new VtlError('E_RANGE_EMPTY', `${field} is empty`, { field })
  }
  if ((start & 0xfffn) !== 0n || (end & 0xfffn) !== 0n) {
    throw new VtlError('E_UNALIGNED', `${field} is not 4 KiB aligned`, {
      field: (start & 0xfffn) !== 0n ? `${field}.start` : `${field}.end`,
    })
  }
  if (end > 1n << BigInt(width)) {
    throw new VtlError(
      'E_BEYOND_GPA_WIDTH',
      `${field} ends beyond the ${width}-bit guest physical address width`,
      { field: `${field}.end` }
    )
  }
  const bit = sharedBit(width)
  let s = start
  let e = end
  if (s >= bit) {
    s -= bit
    e -= bit
  } else if (e > bit) {
    throw new VtlError('E_FIELD_RANGE', `${field} straddles the shared bit`, { field })
  }
  return [Number(s >> 12n), Number(e >> 12n)]
}
