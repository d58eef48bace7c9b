import { VtlError } from '../errors/vtl-error.js'
import { checkU64, expectAtLeast, viewOf } from './bytes.js'

/** Size of one rep element that is a GPA page number (u64). */
export const GPN_SIZE = 8

/**
 * Reads `count` little-endian u64 page numbers starting at `offset` (rep elements of
 * ModifyVtlProtectionMask and the sparse host-visibility calls).
 */
export function readGpnList(bytes: Uint8Array, offset: number, count: number): bigint[] {
  expectAtLeast(bytes, 0, 'gpns')
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(count) ||
    offset < 0 ||
    count < 0 ||
    offset + count * GPN_SIZE > bytes.byteLength
  ) {
    throw new VtlError(
      'E_DECODE_LENGTH',
      `${String(count)} GPNs at offset ${String(offset)} do not fit in ${bytes.byteLength} bytes`,
      { field: 'gpns' }
    )
  }
  const view = viewOf(bytes)
  const gpns = new Array<bigint>(count)
  for (let i = 0; i < count; i++) gpns[i] = view.getBigUint64(offset + i * GPN_SIZE, true)
  return gpns
}

/** Writes the page numbers at `offset`; the caller sized the buffer. */
export function writeGpnList(view: DataView, offset: number, gpns: readonly bigint[]): void {
  for (let i = 0; i < gpns.length; i++) checkU64(gpns[i] as bigint, `gpns[${i}]`)
  for (let i = 0; i < gpns.length; i++) {
    view.setBigUint64(offset + i * GPN_SIZE, gpns[i] as bigint, true)
  }
}

/** The element count of a rep input whose elements are `elementSize` bytes after a header. */
export function repElementCount(
  bytes: Uint8Array,
  headerSize: number,
  elementSize: number,
  field: string
): number {
  expectAtLeast(bytes, headerSize, field)
  const rest = bytes.byteLength - headerSize
  if (rest < 0 || rest % elementSize !== 0) {
    throw new VtlError(
      'E_DECODE_LENGTH',
      `${field}: ${bytes.byteLength} bytes is not a ${headerSize}-byte header plus ${elementSize}-byte elements`,
      { field }
    )
  }
  return rest / elementSize
}
