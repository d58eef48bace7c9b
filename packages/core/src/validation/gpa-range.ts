import { formatHex } from '../hv/bytes.js'
import { VtlError } from '../errors/vtl-error.js'

const PAGE_SHIFT = 12n
const PAGE_SIZE = 1n << PAGE_SHIFT
const PAGE_MASK = PAGE_SIZE - 1n
const ADDRESS_SPACE = 1n << 64n

/** A run of whole pages: the result of every range check below. */
export interface GpnRun {
  startGpn: bigint
  pageCount: bigint
}

function checkBigint(value: bigint, field: string): void {
  if (typeof value !== 'bigint' || value < 0n) {
    throw new VtlError('E_FIELD_RANGE', `${field} must be a non-negative bigint`, { field })
  }
}

function widthLimit(gpaWidth: number): bigint {
  // Page granularity makes anything under 12 bits meaningless; 64 is the architectural ceiling.
  if (!Number.isInteger(gpaWidth) || gpaWidth < 12 || gpaWidth > 64) {
    throw new VtlError('E_FIELD_RANGE', `GPA width must be 12..64 bits, got ${gpaWidth}`, {
      field: 'gpaWidth',
    })
  }
  return 1n << BigInt(gpaWidth)
}

/**
 * A byte range `[start, start + size)` of guest physical memory. In order: empty (size 0) →
 * E_RANGE_EMPTY; start or size not 4 KiB aligned → E_UNALIGNED; end past 2^64 → E_RANGE_OVERFLOW;
 * end past 2^gpaWidth → E_BEYOND_GPA_WIDTH.
 */
export function checkGpaRange(start: bigint, size: bigint, gpaWidth: number): GpnRun {
  checkBigint(start, 'start')
  checkBigint(size, 'size')
  const limit = widthLimit(gpaWidth)
  if (size === 0n) {
    throw new VtlError('E_RANGE_EMPTY', `the range at ${formatHex(start)} is empty`, {
      field: 'size',
    })
  }
  if ((start & PAGE_MASK) !== 0n) {
    throw new VtlError('E_UNALIGNED', `start ${formatHex(start)} is not 4 KiB aligned`, {
      field: 'start',
    })
  }
  if ((size & PAGE_MASK) !== 0n) {
    throw new VtlError('E_UNALIGNED', `size ${formatHex(size)} is not a multiple of 4 KiB`, {
      field: 'size',
    })
  }
  const end = start + size
  if (end > ADDRESS_SPACE) {
    throw new VtlError(
      'E_RANGE_OVERFLOW',
      `${formatHex(start)} + ${formatHex(size)} overflows 64 bits`,
      {
        field: 'size',
      }
    )
  }
  if (end > limit) {
    throw new VtlError(
      'E_BEYOND_GPA_WIDTH',
      `range end ${formatHex(end)} is beyond the ${gpaWidth}-bit guest physical address width`,
      { field: start >= limit ? 'start' : 'size' }
    )
  }
  return { startGpn: start >> PAGE_SHIFT, pageCount: size >> PAGE_SHIFT }
}

/** The same checks for `[start, end)`; `end < start` → E_RANGE_REVERSED, `end = start` → empty. */
export function checkGpaBounds(start: bigint, end: bigint, gpaWidth: number): GpnRun {
  checkBigint(start, 'start')
  checkBigint(end, 'end')
  if (end < start) {
    throw new VtlError(
      'E_RANGE_REVERSED',
      `end ${formatHex(end)} is below start ${formatHex(start)}`,
      {
        field: 'end',
      }
    )
  }
  return checkGpaRange(start, end - start, gpaWidth)
}

/**
 * A run of `pageCount` pages from `startGpn`: empty → E_RANGE_EMPTY; past page 2^52 (the end of a
 * 64-bit address space) → E_RANGE_OVERFLOW; past 2^(gpaWidth − 12) → E_BEYOND_GPA_WIDTH.
 */
export function checkGpnRange(startGpn: bigint, pageCount: bigint, gpaWidth: number): GpnRun {
  checkBigint(startGpn, 'startGpn')
  checkBigint(pageCount, 'pageCount')
  const limit = widthLimit(gpaWidth) >> PAGE_SHIFT
  if (pageCount === 0n) {
    throw new VtlError('E_RANGE_EMPTY', `the run at GPN ${formatHex(startGpn)} is empty`, {
      field: 'pageCount',
    })
  }
  const end = startGpn + pageCount
  if (end > ADDRESS_SPACE >> PAGE_SHIFT) {
    throw new VtlError(
      'E_RANGE_OVERFLOW',
      `GPN ${formatHex(startGpn)} + ${formatHex(pageCount)} pages overflows the 64-bit address space`,
      { field: 'pageCount' }
    )
  }
  if (end > limit) {
    throw new VtlError(
      'E_BEYOND_GPA_WIDTH',
      `GPN run end ${formatHex(end)} is beyond the ${gpaWidth}-bit guest physical address width`,
      { field: startGpn >= limit ? 'startGpn' : 'pageCount' }
    )
  }
  return { startGpn, pageCount }
}

/** One page number below 2^(gpaWidth − 12). */
export function checkGpn(gpn: bigint, gpaWidth: number): void {
  checkGpnRange(gpn, 1n, gpaWidth)
}

/** Whether a GPA (or size) is a multiple of 4 KiB. */
export function isPageAligned(value: bigint): boolean {
  checkBigint(value, 'value')
  return (value & PAGE_MASK) === 0n
}
