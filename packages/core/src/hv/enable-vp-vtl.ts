import {
  decodeVpContextInput,
  encodeVpContextInput,
  VP_CONTEXT_INPUT_SIZE,
  type VpContextInput,
} from './vp-context-input.js'

/**
 * `EnableVpVtlX64` input (240 B; vsm-on-tdx.md §1.4): partition_id u64 @0, vp_index u32 @8,
 * target_vtl u8 @12 (raw, **not** an HvInputVtl), 3 reserved bytes @13 (not checked, preserved),
 * `InitialVpContextX64` @16.
 */
export type EnableVpVtlInput = VpContextInput

export const ENABLE_VP_VTL_SIZE = VP_CONTEXT_INPUT_SIZE

export function encodeEnableVpVtl(input: EnableVpVtlInput): Uint8Array {
  return encodeVpContextInput(input, 'EnableVpVtlX64')
}

export function decodeEnableVpVtl(bytes: Uint8Array): Required<EnableVpVtlInput> {
  return decodeVpContextInput(bytes, 'EnableVpVtlX64')
}
