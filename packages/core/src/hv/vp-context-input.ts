import {
  checkObject,
  checkU64,
  checkUint,
  expectLength,
  readU24,
  viewOf,
  writeU24,
} from './bytes.js'
import {
  checkInitialVpContextX64,
  INITIAL_VP_CONTEXT_X64_SIZE,
  putInitialVpContextX64,
  readInitialVpContextX64,
  type InitialVpContextX64,
} from './initial-vp-context.js'

// EnableVpVtlX64 and StartVirtualProcessorX64 share one layout: partition_id u64 @0,
// vp_index u32 @8, target_vtl u8 @12, three reserved bytes @13, InitialVpContextX64 @16.

export interface VpContextInput {
  partitionId: bigint
  /** `HV_VP_INDEX_SELF` (0xFFFFFFFE) is a valid value here; the handler resolves it. */
  vpIndex: number
  /** Raw u8, not an HvInputVtl: the handler parses it (§4.1 step 0). */
  targetVtl: number
  context: InitialVpContextX64
  /**
   * Bytes 13..15 as one little-endian 24-bit number, preserved as written: OpenHCL's TDX path does
   * not check them (§1.4). Optional when encoding (zero), always present when decoding.
   */
  reserved?: number
}

export const VP_CONTEXT_INPUT_SIZE = 16 + INITIAL_VP_CONTEXT_X64_SIZE

export function encodeVpContextInput(input: VpContextInput, field: string): Uint8Array {
  checkObject(input, field)
  checkU64(input.partitionId, `${field}.partitionId`)
  checkUint(input.vpIndex, 32, `${field}.vpIndex`)
  checkUint(input.targetVtl, 8, `${field}.targetVtl`)
  const reserved = input.reserved ?? 0
  checkUint(reserved, 24, `${field}.reserved`)
  checkInitialVpContextX64(input.context)
  const bytes = new Uint8Array(VP_CONTEXT_INPUT_SIZE)
  const view = viewOf(bytes)
  view.setBigUint64(0, input.partitionId, true)
  view.setUint32(8, input.vpIndex, true)
  view.setUint8(12, input.targetVtl)
  writeU24(view, 13, reserved)
  putInitialVpContextX64(view, 16, input.context)
  return bytes
}

export function decodeVpContextInput(bytes: Uint8Array, field: string): Required<VpContextInput> {
  const header = decodeVpContextHeader(bytes, field)
  return {
    partitionId: header.partitionId,
    vpIndex: header.vpIndex,
    targetVtl: header.targetVtl,
    context: readInitialVpContextX64(viewOf(bytes), 16),
    reserved: header.reserved,
  }
}

/** The input's fields before the context (bytes 0..16), after checking the whole length. */
export function decodeVpContextHeader(
  bytes: Uint8Array,
  field: string
): Omit<Required<VpContextInput>, 'context'> {
  expectLength(bytes, VP_CONTEXT_INPUT_SIZE, field)
  const view = viewOf(bytes)
  return {
    partitionId: view.getBigUint64(0, true),
    vpIndex: view.getUint32(8, true),
    targetVtl: view.getUint8(12),
    reserved: readU24(view, 13),
  }
}
