import { VtlError } from '../errors/vtl-error.js'
import {
  checkObject,
  checkU64,
  checkUint,
  expectAtLeast,
  readU24,
  viewOf,
  writeU24,
} from './bytes.js'
import { GPN_SIZE, readGpnList, repElementCount, writeGpnList } from './gpn-list.js'

export { readGpnList } from './gpn-list.js'

/**
 * `ModifyVtlProtectionMask` header (16 B; vsm-on-tdx.md §1.4): partition_id u64 @0, map_flags u32
 * @8 (`HvMapGpaFlags`), target_vtl u8 @12 (`HvInputVtl`, raw), 3 reserved bytes @13. The rep
 * elements that follow are u64 GPA page numbers.
 */
export interface ModifyVtlProtectionMaskHeader {
  partitionId: bigint
  mapFlags: number
  /** The raw `HvInputVtl` byte; decode it with `decodeHvInputVtl`. */
  targetVtl: number
  /** Bytes 13..15 (LE), preserved, not checked. Optional when encoding, present when decoding. */
  reserved?: number
}

export const MODIFY_VTL_PROTECTION_MASK_HEADER_SIZE = 16

const FIELD = 'ModifyVtlProtectionMask'

export function encodeModifyVtlProtectionMask(
  header: ModifyVtlProtectionMaskHeader,
  gpns: readonly bigint[]
): Uint8Array {
  checkObject(header, FIELD)
  checkU64(header.partitionId, FIELD, 'partitionId')
  checkUint(header.mapFlags, 32, FIELD, 'mapFlags')
  checkUint(header.targetVtl, 8, FIELD, 'targetVtl')
  const reserved = header.reserved ?? 0
  checkUint(reserved, 24, FIELD, 'reserved')
  if (!Array.isArray(gpns)) {
    throw new VtlError('E_FIELD_RANGE', 'gpns must be an array', { field: `${FIELD}.gpns` })
  }
  const bytes = new Uint8Array(MODIFY_VTL_PROTECTION_MASK_HEADER_SIZE + gpns.length * GPN_SIZE)
  const view = viewOf(bytes)
  writeGpnList(view, MODIFY_VTL_PROTECTION_MASK_HEADER_SIZE, gpns)
  view.setBigUint64(0, header.partitionId, true)
  view.setUint32(8, header.mapFlags, true)
  view.setUint8(12, header.targetVtl)
  writeU24(view, 13, reserved)
  return bytes
}

/** Reads the header: the first 16 bytes of a rep input (anything after them is the GPN list). */
export function decodeModifyVtlProtectionMaskHeader(
  bytes: Uint8Array
): Required<ModifyVtlProtectionMaskHeader> {
  expectAtLeast(bytes, MODIFY_VTL_PROTECTION_MASK_HEADER_SIZE, FIELD)
  const view = viewOf(bytes)
  return {
    partitionId: view.getBigUint64(0, true),
    mapFlags: view.getUint32(8, true),
    targetVtl: view.getUint8(12),
    reserved: readU24(view, 13),
  }
}

/** Header plus every GPN; the length must be 16 + 8·n. */
export function decodeModifyVtlProtectionMask(bytes: Uint8Array): {
  header: Required<ModifyVtlProtectionMaskHeader>
  gpns: bigint[]
} {
  const header = decodeModifyVtlProtectionMaskHeader(bytes)
  const count = repElementCount(bytes, MODIFY_VTL_PROTECTION_MASK_HEADER_SIZE, GPN_SIZE, FIELD)
  return { header, gpns: readGpnList(bytes, MODIFY_VTL_PROTECTION_MASK_HEADER_SIZE, count) }
}
