import {
  decodeVpContextInput,
  encodeVpContextInput,
  VP_CONTEXT_INPUT_SIZE,
  type VpContextInput,
} from './vp-context-input.js'

/**
 * `StartVirtualProcessorX64` input (240 B; vsm-on-tdx.md §1.4, §4.5): partition_id u64 @0,
 * vp_index u32 @8, target_vtl u8 @12, rsvd0 u8 @13, rsvd1 u16 @14, `InitialVpContextX64` @16.
 *
 * rsvd0/rsvd1 travel together in `reserved` (bits 7:0 = rsvd0, 23:8 = rsvd1) and are preserved,
 * not checked: OpenHCL's TDX path ignores them (its SNP path refuses non-zero values with
 * InvalidParameter, so a handler that wants that rule has the values to apply it).
 */
export type StartVirtualProcessorInput = VpContextInput

export const START_VIRTUAL_PROCESSOR_SIZE = VP_CONTEXT_INPUT_SIZE

export function encodeStartVirtualProcessor(input: StartVirtualProcessorInput): Uint8Array {
  return encodeVpContextInput(input, 'StartVirtualProcessorX64')
}

export function decodeStartVirtualProcessor(
  bytes: Uint8Array
): Required<StartVirtualProcessorInput> {
  return decodeVpContextInput(bytes, 'StartVirtualProcessorX64')
}
