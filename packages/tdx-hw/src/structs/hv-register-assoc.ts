import type { HvRegisterAssoc } from '@vtl/core'
import { VtlError } from '@vtl/core'
import { expectSize, viewOf } from './struct-codec.js'

/** `hv_register_assoc` (32 B, 16-aligned): name u32 @0, reserved u32×3, value u128 @16. */
export const HV_REGISTER_ASSOC_BYTES = 32
const U128_MAX = (1n << 128n) - 1n

export function encodeHvRegisterAssoc(assoc: HvRegisterAssoc): Uint8Array {
  const bytes = new Uint8Array(HV_REGISTER_ASSOC_BYTES)
  writeHvRegisterAssoc(bytes, assoc)
  return bytes
}

/** Writes into a 32-byte buffer (the one regs_ptr points at). */
export function writeHvRegisterAssoc(bytes: Uint8Array, assoc: HvRegisterAssoc): void {
  expectSize(bytes, HV_REGISTER_ASSOC_BYTES, 'hv_register_assoc')
  if (!Number.isInteger(assoc.name) || assoc.name < 0 || assoc.name > 0xffff_ffff) {
    throw new VtlError('E_FIELD_RANGE', `register name ${assoc.name} is not a u32`, {
      field: 'hv_register_assoc.name',
    })
  }
  if (assoc.value < 0n || assoc.value > U128_MAX) {
    throw new VtlError('E_FIELD_RANGE', `register value is not a u128`, {
      field: 'hv_register_assoc.value',
    })
  }
  bytes.fill(0)
  const view = viewOf(bytes)
  view.setUint32(0, assoc.name, true)
  view.setBigUint64(16, assoc.value & 0xffff_ffff_ffff_ffffn, true)
  view.setBigUint64(24, assoc.value >> 64n, true)
}

export function decodeHvRegisterAssoc(bytes: Uint8Array): HvRegisterAssoc {
  expectSize(bytes, HV_REGISTER_ASSOC_BYTES, 'hv_register_assoc')
  const view = viewOf(bytes)
  return {
    name: view.getUint32(0, true),
    value: view.getBigUint64(16, true) | (view.getBigUint64(24, true) << 64n),
  }
}
